"""The misuse commands of ``reviewer`` (contract in design.md): check an image found in the
wild, flag misuse, follow flags and export evidence.

``check-image IMAGE [--json]`` and ``flag IMAGE --as NAME [--seen-at URL] [--seen-on DATE]
[--channel C] [--territory T] [--notes TEXT]`` are as design.md has them. Added where they were
needed: the sighting options on ``check-image`` (to check a scope without flagging),
``--severity``, ``--talent`` and ``--json`` on ``flag``; ``flags [FLAG_ID]`` to list flags or
show one with its history; ``flag-status FLAG_ID STATUS --as NAME [--note TEXT]``; and
``evidence FLAG_ID --out FILE.zip``. ``--as`` signs in as in the consent commands
(``$REVIEWER_PASSPHRASE``, else a prompt). Exit status 0 when a command ran (a check that finds
no match ran), 1 when it was refused or the image cannot be read, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
FLAG_STATUSES = ("open", "sent_to_brand", "answered", "resolved", "dismissed")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _sighting_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seen-at", metavar="URL", help="where it was seen (URL or words)")
    parser.add_argument("--seen-on", type=_date, metavar="DATE", help="when (YYYY-MM-DD)")
    parser.add_argument("--channel", metavar="C",
                        help="ecommerce, social, ooh, print, video or tv")
    parser.add_argument("--territory", metavar="T", help="country code (US, FR...), EU or WW")


def add_misuse_commands(sub: Any) -> None:
    """Add the misuse subcommands to the ``reviewer`` parser's subparsers."""
    from reviewer.cli_consent import _as_option

    p = sub.add_parser("check-image", help="find the renders an image was made from, and "
                       "whether that use is approved")
    p.add_argument("image", type=Path, metavar="IMAGE")
    p.add_argument("--json", action="store_true", help="the result as JSON "
                   "(docs/check-image.md)")
    _sighting_options(p)
    _as_option(p, help_text="only consider requests this profile may see")

    p = sub.add_parser("flag", help="flag an image seen in the wild as misuse")
    p.add_argument("image", type=Path, metavar="IMAGE")
    _as_option(p, required=True)
    _sighting_options(p)
    p.add_argument("--notes", metavar="TEXT")
    p.add_argument("--severity", choices=("low", "medium", "high"),
                   help="default: from the verdict (no approval: high)")
    p.add_argument("--talent", metavar="ID",
                   help="whose likeness it shows, when the image matches nothing")
    p.add_argument("--json", action="store_true", help="the flag record as JSON")

    p = sub.add_parser("flags", help="misuse flags (one with its history, given its id)")
    p.add_argument("flag_id", nargs="?", type=int, metavar="FLAG_ID")
    p.add_argument("--status", choices=FLAG_STATUSES)
    p.add_argument("--json", action="store_true", help="one JSON object per flag")
    _as_option(p, help_text="only the flags this profile may see")

    p = sub.add_parser("flag-status", help="move a flag on: sent_to_brand, answered "
                       "(directors), resolved, dismissed, open")
    p.add_argument("flag_id", type=int, metavar="FLAG_ID")
    p.add_argument("status", choices=FLAG_STATUSES, metavar="STATUS")
    _as_option(p, required=True)
    p.add_argument("--note", metavar="TEXT", help="why (kept in the flag's history)")

    p = sub.add_parser("evidence", help="export a flag as an evidence pack (.zip)")
    p.add_argument("flag_id", type=int, metavar="FLAG_ID")
    p.add_argument("--out", required=True, type=Path, metavar="FILE.zip")
    _as_option(p)


def _library(args: argparse.Namespace) -> Any:
    from reviewer.cli import _open_library

    return _open_library(args)


def _session(library: Any, args: argparse.Namespace) -> Any:
    from reviewer.cli_consent import sign_in

    return sign_in(library, args.as_name) if getattr(args, "as_name", None) else None


def _sighting(args: argparse.Namespace) -> Any:
    from reviewer.services.flags import check_sighting_input

    return check_sighting_input(seen_at=args.seen_at, seen_on=args.seen_on,
                                channel=args.channel, territory=args.territory,
                                today=dt.date.today())


def cmd_check_image(args: argparse.Namespace) -> int:
    from reviewer.services.misuse import MisuseChecker, read_found_image

    found = read_found_image(args.image)  # unreadable: refused before the library is opened
    sighting = _sighting(args)
    with _library(args) as library:
        session = _session(library, args)
        result = MisuseChecker(library).check(found, sighting=sighting, session=session)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return EXIT_OK
    image = result.image
    print(f"{args.image}: {image.width}×{image.height}, sha256 {image.sha256[:16]}…")
    print(f"  {result.verdict.text}")
    if result.sighting.to_json() != {k: None for k in result.sighting.to_json()}:
        print(f"  {result.sighting.describe()}")
    for match in result.matches:
        print(
            f"  #{match.rank} {match.request_id} revision {match.revision} "
            f"({match.talent_id}, {match.organisation}): {match.asset_path}"
        )
        print(
            f"      status today: {match.status.label.lower()}; distance {match.distance} "
            f"bits, similarity {match.similarity:.3f}, confidence {match.confidence:.2f}"
        )
        if match.verdict.scope_check is not None:
            print(f"      scope: {match.verdict.scope_check.text}")
    if not result.matches:
        print(f"  no render of the {result.fingerprints} in the library matches")
    print(f"  checked in {result.seconds:.2f} s")
    return EXIT_OK


def cmd_flag(args: argparse.Namespace) -> int:
    from reviewer.services.flags import FlagService
    from reviewer.services.misuse import read_found_image

    read_found_image(args.image)  # unreadable: refused before asking for a passphrase
    sighting = _sighting(args)
    with _library(args) as library:
        from reviewer.cli_consent import sign_in

        session = sign_in(library, args.as_name)
        record = FlagService(library).flag(
            session, args.image, sighting=sighting, notes=args.notes, severity=args.severity,
            talent_id=args.talent,
        )
    if args.json:
        print(json.dumps(record.to_json(), ensure_ascii=False, indent=2))
    else:
        print(record.summary())
    return EXIT_OK


def cmd_flags(args: argparse.Namespace) -> int:
    from reviewer.domain.misuse import FlagStatus
    from reviewer.services.flags import FlagService

    with _library(args) as library:
        session = _session(library, args)
        service = FlagService(library)
        if args.flag_id is not None:
            records = [service.get(args.flag_id, session=session)]
        else:
            status = FlagStatus(args.status) if args.status else None
            records = service.list(session=session, status=status)
    if args.json:
        for record in records:
            print(json.dumps(record.to_json(with_check=args.flag_id is not None),
                             ensure_ascii=False))
        return EXIT_OK
    if not records:
        print("no flags")
        return EXIT_OK
    for record in records:
        print(record.summary())
        if args.flag_id is not None:
            if record.notes:
                print(f"  notes: {record.notes}")
            if record.scope_check:
                print(f"  scope: {record.scope_check}")
            print(f"  evidence: {record.evidence_name} (sha256 {record.evidence_sha256})")
            for event in record.history:
                change = (f"{event.from_status.label} → " if event.from_status else "")
                note = f": {event.note}" if event.note else ""
                print(f"  {event.at}  {event.actor} ({event.role}) "
                      f"{change}{event.to_status.label}{note}")
    return EXIT_OK


def cmd_flag_status(args: argparse.Namespace) -> int:
    from reviewer.cli_consent import sign_in
    from reviewer.services.flags import FlagService

    with _library(args) as library:
        session = sign_in(library, args.as_name)
        record = FlagService(library).change_status(session, args.flag_id, args.status,
                                                    note=args.note)
    print(record.summary())
    return EXIT_OK


def cmd_evidence(args: argparse.Namespace) -> int:
    from reviewer.services.evidence import EvidenceService

    with _library(args) as library:
        session = _session(library, args)
        export = EvidenceService(library).export(args.flag_id, args.out, session=session)
    print(export.summary())
    return EXIT_OK


MISUSE_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check-image": cmd_check_image,
    "flag": cmd_flag,
    "flags": cmd_flags,
    "flag-status": cmd_flag_status,
    "evidence": cmd_evidence,
}
