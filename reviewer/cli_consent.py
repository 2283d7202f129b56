"""The consent commands of ``reviewer`` (contract in design.md): profiles, standing terms,
decisions, receipts, verification, the release gate and takedowns.

``--as NAME`` signs in as a profile; its passphrase comes from ``$REVIEWER_PASSPHRASE``, else
a prompt without echo. Commands that only read (``policy show``, ``receipt``, ``release``,
``takedowns``, ``history``) run as the library's local operator without ``--as``, and with it
show or do only what that profile may. Any refusal exits 1 with one line on stderr.

Heavy modules are imported inside the commands so that ``reviewer --help`` stays instant.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
PASSPHRASE_VARIABLE = "REVIEWER_PASSPHRASE"
NEW_PASSPHRASE_VARIABLE = "REVIEWER_NEW_PASSPHRASE"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _id_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _as_option(
    parser: argparse.ArgumentParser, *, required: bool = False, help_text: str | None = None
) -> None:
    parser.add_argument(
        "--as",
        dest="as_name",
        metavar="NAME",
        required=required,
        help=help_text
        or "act as this profile (passphrase from $REVIEWER_PASSPHRASE, else asked for)",
    )


def add_consent_commands(sub: Any) -> None:
    """Add the consent subcommands to the ``reviewer`` parser's subparsers."""
    p = sub.add_parser("profile", help="profiles: talents, agents, directors")
    profile_sub = p.add_subparsers(dest="profile_command", metavar="ACTION", required=True)
    q = profile_sub.add_parser("add", help="add a profile (asks for its passphrase)")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--role", required=True, choices=("talent", "agent", "director"))
    q.add_argument("--talent", metavar="ID", help="the talent id (role talent)")
    q.add_argument(
        "--represents",
        type=_id_list,
        metavar="ID[,ID...]",
        default=[],
        help="talent ids (role agent)",
    )
    q.add_argument("--organisation", metavar="ORG", help="organisation (role director)")
    q = profile_sub.add_parser("list", help="list profiles")
    q.add_argument("--json", action="store_true", help="one JSON object per profile")
    q = profile_sub.add_parser(
        "passphrase",
        help="change a profile's passphrase (new one "
        "from $REVIEWER_NEW_PASSPHRASE, else asked for)",
    )
    q.add_argument("name", metavar="NAME")

    p = sub.add_parser("policy", help="a talent's standing terms")
    policy_sub = p.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    q = policy_sub.add_parser("show", help="show the terms in force")
    q.add_argument("talent", metavar="TALENT_ID")
    q.add_argument("--json", action="store_true")
    _as_option(q)
    q = policy_sub.add_parser("set", help="set new terms from a JSON file (see docs/policy.md)")
    q.add_argument("talent", metavar="TALENT_ID")
    q.add_argument("--file", required=True, type=Path, metavar="POLICY.json")
    _as_option(q, required=True)
    q = policy_sub.add_parser("check", help="check a request against its talent's terms")
    q.add_argument("request", metavar="REQUEST_ID")
    q.add_argument("--json", action="store_true")
    _as_option(q)

    p = sub.add_parser("decide", help="approve, reject or ask for changes (talent only)")
    p.add_argument("request", metavar="REQUEST_ID")
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", dest="verdict", action="store_const", const="approve")
    verdict.add_argument("--reject", dest="verdict", action="store_const", const="reject")
    verdict.add_argument("--changes", dest="verdict", action="store_const", const="changes")
    _as_option(p, required=True)
    p.add_argument("--reason", metavar="TEXT", help="required to reject or ask for changes")
    p.add_argument("--channels", type=_id_list, metavar="C,...", help="approve only these")
    p.add_argument("--territories", type=_id_list, metavar="T,...", help="approve only these")
    p.add_argument("--until", type=_date, metavar="DATE", help="approve only until this date")
    p.add_argument("--conditions", metavar="TEXT", help="conditions of the approval")
    p.add_argument(
        "--override-policy",
        action="store_true",
        help="approve although the request breaks your standing terms",
    )
    p.add_argument(
        "--revision",
        type=int,
        metavar="N",
        help="the revision you reviewed (refused if it is not the latest)",
    )

    p = sub.add_parser("revoke", help="revoke an approval (talent only)")
    p.add_argument("request", metavar="REQUEST_ID")
    _as_option(p, required=True)
    p.add_argument("--reason", required=True, metavar="TEXT")

    p = sub.add_parser("receipt", help="write the receipt in force for a request")
    p.add_argument("request", metavar="REQUEST_ID")
    p.add_argument("--out", required=True, type=Path, metavar="FILE")
    p.add_argument(
        "--id",
        dest="receipt_id",
        metavar="RECEIPT_ID",
        help="an earlier receipt from the request's history instead",
    )
    _as_option(p)

    p = sub.add_parser("verify", help="verify a consent receipt (and a package against it)")
    p.add_argument("receipt", type=Path, metavar="RECEIPT")
    p.add_argument("--package", type=Path, metavar="PATH", help="folder or .zip to check")

    p = sub.add_parser("release", help="export an approved use for publication (the gate)")
    p.add_argument("request", metavar="REQUEST_ID")
    p.add_argument("--out", required=True, type=Path, metavar="DIR")
    _as_option(p)

    p = sub.add_parser("takedowns", help="released uses that are now revoked or expired")
    p.add_argument("--json", action="store_true", help="one JSON object per takedown")
    _as_option(p)

    p = sub.add_parser("history", help="a request's decisions and releases")
    p.add_argument("request", metavar="REQUEST_ID")
    p.add_argument("--json", action="store_true")
    _as_option(p)


def read_passphrase(
    prompt: str, *, variable: str = PASSPHRASE_VARIABLE, confirm: bool = False
) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Again: ") != first:
        from reviewer.cli import Refused

        raise Refused("the two passphrases differ")
    return first


def sign_in(library: Any, name: str) -> Any:
    """A :class:`Session` for profile *name*, after asking for its passphrase."""
    from reviewer.cli import Refused
    from reviewer.services.profiles import ProfileService
    from reviewer.services.refusals import Refusal

    service = ProfileService(library)
    try:
        service.get(name)  # an unknown name is refused before asking for a passphrase
        return service.authenticate(name, read_passphrase(f"Passphrase for {name}: "))
    except Refusal as exc:
        raise Refused(str(exc)) from None


def _session(library: Any, args: argparse.Namespace) -> Any:
    return sign_in(library, args.as_name) if getattr(args, "as_name", None) else None


def _library(args: argparse.Namespace, *, create: bool = False) -> Any:
    from reviewer.cli import _open_library

    return _open_library(args, create=create)


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


# Profiles -----------------------------------------------------------------------------------


def cmd_profile(args: argparse.Namespace) -> int:
    from reviewer.services.profiles import ProfileService

    if args.profile_command == "add":
        with _library(args, create=True) as library:
            passphrase = read_passphrase(f"New passphrase for {args.name}: ", confirm=True)
            profile = ProfileService(library).add(
                args.name,
                args.role,
                passphrase,
                talent_id=args.talent,
                represents=args.represents,
                organisation=args.organisation,
                actor="cli",
            )
        print(f"added profile {profile.name}: {profile.describe()}")
        return EXIT_OK
    if args.profile_command == "passphrase":
        with _library(args) as library:
            service = ProfileService(library)
            service.get(args.name)
            old = read_passphrase(f"Current passphrase for {args.name}: ")
            service.authenticate(args.name, old)  # refuse before asking for a new one
            new = read_passphrase(
                f"New passphrase for {args.name}: ", variable=NEW_PASSPHRASE_VARIABLE, confirm=True
            )
            service.change_passphrase(args.name, old, new)
        print(f"changed the passphrase of {args.name}")
        return EXIT_OK
    with _library(args) as library:
        profiles = ProfileService(library).list()
    if args.json:
        for profile in profiles:
            print(json.dumps(profile.to_json(), ensure_ascii=False))
        return EXIT_OK
    if not profiles:
        print("no profiles yet (reviewer profile add NAME --role ...)")
        return EXIT_OK
    _print_table(
        [("NAME", "ROLE", "FOR")] + [(p.name, p.role.value, p.describe()) for p in profiles]
    )
    return EXIT_OK


# Standing terms -----------------------------------------------------------------------------


def cmd_policy(args: argparse.Namespace) -> int:
    from reviewer.domain.policy import PolicyFormatError, parse_policy
    from reviewer.services.policy import PolicyService

    with _library(args) as library:
        service = PolicyService(library)
        session = _session(library, args)
        if args.policy_command == "set":
            try:
                policy = parse_policy(args.file.read_bytes())
            except OSError as exc:
                print(f"reviewer: {args.file}: {exc.strerror}", file=sys.stderr)
                return EXIT_REFUSED
            except (PolicyFormatError, UnicodeDecodeError) as exc:
                print(f"reviewer: {args.file}: {exc}", file=sys.stderr)
                return EXIT_REFUSED
            version = service.set(session, args.talent, policy)
            print(f"standing terms of {args.talent} set (version {version.version})")
            return EXIT_OK
        if args.policy_command == "check":
            findings = service.check_request(args.request, session=session)
            if args.json:
                print(json.dumps([f.to_json() for f in findings], ensure_ascii=False))
            for finding in [] if args.json else findings:
                print(f"{finding.level.value:<9}  {finding.text}")
            return EXIT_OK
        version = service.show(args.talent, session=session)
    if version is None:
        if args.json:
            print("null")
        else:
            print(f"{args.talent} has set no standing terms")
        return EXIT_OK
    if args.json:
        print(json.dumps(version.to_json(), ensure_ascii=False, indent=2))
    else:
        print(
            f"standing terms of {args.talent}, version {version.version}, set by "
            f"{version.set_by} at {version.set_at}:"
        )
        print(json.dumps(version.policy.to_json(), ensure_ascii=False, indent=2))
    return EXIT_OK


# Decisions ----------------------------------------------------------------------------------


def cmd_decide(args: argparse.Namespace) -> int:
    from reviewer.services.review import ReviewService

    narrowing = (
        args.channels is not None
        or args.territories is not None
        or args.until
        or args.conditions
        or args.override_policy
    )
    if args.verdict != "approve" and narrowing:
        print(
            "reviewer: --channels, --territories, --until, --conditions and "
            "--override-policy go with --approve",
            file=sys.stderr,
        )
        return EXIT_USAGE
    with _library(args) as library:
        session = sign_in(library, args.as_name)
        service = ReviewService(library)
        if args.verdict == "approve":
            result = service.approve(
                session,
                args.request,
                revision=args.revision,
                channels=args.channels,
                territories=args.territories,
                until=args.until,
                conditions=args.conditions,
                reason=args.reason,
                override_policy=args.override_policy,
            )
        elif args.verdict == "reject":
            result = service.reject(
                session, args.request, reason=args.reason or "", revision=args.revision
            )
        else:
            result = service.request_changes(
                session, args.request, reason=args.reason or "", revision=args.revision
            )
    print(result.summary())
    for finding in result.findings:
        if finding.level.value == "warning":
            print(f"  warning: {finding.text}")
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace) -> int:
    from reviewer.services.review import ReviewService

    with _library(args) as library:
        session = sign_in(library, args.as_name)
        result = ReviewService(library).revoke(session, args.request, reason=args.reason)
    print(result.summary())
    return EXIT_OK


# Receipts -----------------------------------------------------------------------------------


def cmd_receipt(args: argparse.Namespace) -> int:
    from reviewer.services.receipts import ReceiptService

    with _library(args) as library:
        session = _session(library, args)
        export = ReceiptService(library).export(
            args.request, args.out, session=session, receipt_id=args.receipt_id
        )
    print(export.summary())
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from reviewer.services.receipts import verify_receipt
    from reviewer.storage.library import Library, default_library_dir

    try:
        raw = args.receipt.read_bytes()
    except OSError as exc:
        print(f"reviewer: {args.receipt}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_REFUSED
    root = args.library if args.library is not None else default_library_dir()
    library = Library.open(root) if Library.exists_at(root) else None
    try:
        result = verify_receipt(raw, library=library, package=args.package)
    finally:
        if library is not None:
            library.close()
    name = args.receipt.name
    if result.description:
        print(f"{name}: {result.description}")
    for note in result.notes:
        print(f"  {note}")
    if result.problems:
        for problem in result.problems:
            print(f"reviewer: {name}: {problem}", file=sys.stderr)
        print(
            f"NOT VERIFIED: {len(result.problems)} problem"
            f"{'s' if len(result.problems) != 1 else ''}",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    print("verified")
    return EXIT_OK


# Release and takedowns ----------------------------------------------------------------------


def cmd_release(args: argparse.Namespace) -> int:
    from reviewer.services.release import ReleaseService

    with _library(args) as library:
        session = _session(library, args)
        record = ReleaseService(library).release(args.request, args.out, session=session)
    print(record.summary())
    return EXIT_OK


def cmd_takedowns(args: argparse.Namespace) -> int:
    from reviewer.services.takedowns import list_takedowns

    with _library(args) as library:
        session = _session(library, args)
        items = list_takedowns(library, session=session)
    if args.json:
        for item in items:
            print(json.dumps(item.to_json(), ensure_ascii=False))
        return EXIT_OK
    if not items:
        print("nothing to take down")
        return EXIT_OK
    for item in items:
        release = item.release
        print(
            f"TAKE DOWN {release.request_id} revision {release.revision} "
            f"({item.reason}): {item.detail}"
        )
        print(
            f"  released {release.released_at} by {release.released_by} to "
            f"{release.out_dir} (release {release.id}, receipt {release.receipt_id})"
        )
        for file in release.files:
            print(f"    {file.path}  sha256 {file.released_sha256}")
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    from reviewer.services.release import ReleaseService
    from reviewer.services.review import ReviewService

    with _library(args) as library:
        session = _session(library, args)
        decisions = ReviewService(library).history(args.request, session=session)
        releases = ReleaseService(library).releases(args.request, session=session)
    if args.json:
        print(
            json.dumps(
                {
                    "decisions": [d.to_json() for d in decisions],
                    "releases": [r.to_json() for r in releases],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return EXIT_OK
    in_force = {}
    for decision in decisions:
        in_force[decision.revision] = decision.id
    for decision in decisions:
        state = "in force" if in_force[decision.revision] == decision.id else "superseded"
        if decision.revoked_at:
            state = (
                f"revoked {decision.revoked_at} by {decision.revoked_by}: "
                f"{decision.revocation_reason}"
            )
        print(
            f"{decision.decided_at}  revision {decision.revision}  "
            f"{decision.verdict.value:<17} by {decision.decided_by}  receipt {decision.id}  "
            f"[{state}]"
        )
        if decision.reason:
            print(f"    reason: {decision.reason}")
        if decision.scope:
            print(f"    scope: {decision.scope.summary()}")
        if decision.conditions:
            print(f"    conditions: {decision.conditions}")
    for release in releases:
        print(
            f"{release.released_at}  revision {release.revision}  released by "
            f"{release.released_by} to {release.out_dir} (receipt {release.receipt_id})"
        )
    if not decisions and not releases:
        print(f"{args.request}: no decisions yet")
    return EXIT_OK


CONSENT_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "profile": cmd_profile,
    "policy": cmd_policy,
    "decide": cmd_decide,
    "revoke": cmd_revoke,
    "receipt": cmd_receipt,
    "verify": cmd_verify,
    "release": cmd_release,
    "takedowns": cmd_takedowns,
    "history": cmd_history,
}
