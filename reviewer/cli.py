"""The ``reviewer`` command line (contract in design.md).

Exit status: 0 success, 1 the input or the request was refused (one line on stderr naming the
file and the reason), 2 usage error. Heavy modules are imported inside each command so that
``reviewer --help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from reviewer import __version__
from reviewer.cli_consent import CONSENT_COMMANDS, add_consent_commands
from reviewer.cli_misuse import MISUSE_COMMANDS, add_misuse_commands

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
STATUSES = ("pending", "changes_requested", "approved", "rejected", "revoked", "expired")


class Refused(Exception):
    """The request was refused; the message is shown on stderr and the exit status is 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reviewer",
        description="Twin Reviewer: a talent's consent, use by use, for their digital twin.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--library",
        type=Path,
        metavar="DIR",
        help="library folder (default: $REVIEWER_LIBRARY, else the user data folder)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("gui", help="open the app (the default)")
    sub.add_parser("demo", help="create a demo library (safe to run twice)")

    p = sub.add_parser("import", help="import request packages (folders or .zip)")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument(
        "--max-total-bytes",
        type=int,
        metavar="N",
        help="refuse packages larger than N bytes unpacked (default 8 GiB)",
    )
    p.add_argument(
        "--max-triangles",
        type=int,
        metavar="N",
        help="refuse avatars with more than N triangles (default 20 million)",
    )

    p = sub.add_parser("list", help="list requests")
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--json", action="store_true", help="one JSON object per request")
    p.add_argument(
        "--as", dest="as_name", metavar="NAME", help="only the requests this profile may see"
    )

    add_consent_commands(sub)
    add_misuse_commands(sub)

    p = sub.add_parser("audit", help="the audit log")
    audit_sub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    audit_sub.add_parser("verify", help="check the hash chain")
    p = audit_sub.add_parser("show", help="print the log")
    p.add_argument("--subject", help="only entries about this subject, e.g. request:ID")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "gui"
    handler = COMMANDS[command]
    try:
        return handler(args)
    except Refused as exc:
        print(f"reviewer: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("reviewer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`reviewer list | head`): not an error of ours.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        # Any command a service refused (permission, policy, release gate, …) exits 1. Imported
        # here, not at the top, so that `reviewer --help` loads no pydantic.
        from reviewer.services.refusals import Refusal

        if not isinstance(exc, Refusal):
            raise
        print(f"reviewer: {exc}", file=sys.stderr)
        return EXIT_REFUSED


def _library_dir(args: argparse.Namespace) -> Path:
    from reviewer.storage.library import default_library_dir

    return args.library if args.library is not None else default_library_dir()


def _open_library(args: argparse.Namespace, *, create: bool = False):  # type: ignore[no-untyped-def]
    from reviewer.storage.library import Library, LibraryError

    root = _library_dir(args)
    if create:
        return Library.open(root)
    try:
        return Library.open_existing(root)
    except LibraryError as exc:
        raise Refused(str(exc)) from None


def cmd_gui(args: argparse.Namespace) -> int:
    from reviewer.app import run_app

    return run_app(_library_dir(args))


def cmd_demo(args: argparse.Namespace) -> int:
    from reviewer.services.demo import build_demo_library

    report = build_demo_library(_library_dir(args), progress=print)
    print(report.text())
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from reviewer.assets.package import ImportLimits, PackageError, open_package
    from reviewer.services.imports import ImportService
    from reviewer.storage.library import Library

    limits = ImportLimits.from_environment(
        max_total_bytes=args.max_total_bytes, max_triangles=args.max_triangles
    )
    refused = 0
    library: Library | None = None
    try:
        for path in args.paths:
            try:
                with open_package(path, limits) as package:
                    # The library is created only once there is something to store in it.
                    if library is None:
                        library = _open_library(args, create=True)
                    result = ImportService(library, limits).store(package)
            except PackageError as exc:
                print(f"reviewer: refused {exc}", file=sys.stderr)
                refused += 1
                continue
            for warning in result.warnings:
                print(f"warning: {warning}", file=sys.stderr)
            print(result.summary())
    finally:
        if library is not None:
            library.close()
    return EXIT_REFUSED if refused else EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from reviewer.domain.status import RequestStatus
    from reviewer.services.queries import list_requests

    with _open_library(args) as library:
        status = RequestStatus(args.status) if args.status else None
        filters = {}
        if args.as_name:
            from reviewer.cli_consent import sign_in
            from reviewer.services.access import visible_to

            filters = visible_to(sign_in(library, args.as_name).actor)
        rows = list_requests(library, status=status, **filters)
    if args.json:
        for row in rows:
            print(json.dumps(row.to_json(), ensure_ascii=False))
        return EXIT_OK
    table = [("ID", "REV", "TALENT", "CAMPAIGN", "STATUS", "DUE", "ASSETS")]
    table += [
        (
            r.id,
            str(r.revision),
            r.talent_id,
            r.campaign,
            r.status.value,
            r.due.isoformat(),
            str(r.asset_count),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    from reviewer.storage import audit

    with _open_library(args) as library, library.reader.connect() as conn:
        if args.audit_command == "show":
            for entry in audit.entries(conn, subject=args.subject):
                details = json.dumps(entry.details, ensure_ascii=False, sort_keys=True)
                print(
                    f"{entry.seq:>6}  {entry.at}  {entry.actor:<16} {entry.action:<22} "
                    f"{entry.subject}  {details}"
                )
            return EXIT_OK
        problem = audit.verify(conn)
        count = len(audit.entries(conn))
    if problem is not None:
        raise Refused(f"{library.root}: audit log broken: {problem}")
    print(f"audit log intact: {count} entries")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "gui": cmd_gui,
    "demo": cmd_demo,
    "import": cmd_import,
    "list": cmd_list,
    "audit": cmd_audit,
    **CONSENT_COMMANDS,
    **MISUSE_COMMANDS,
}
