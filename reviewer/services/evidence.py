"""Evidence packs: a misuse flag exported as one zip that stands on its own.

Contents (docs/evidence-pack.md has the details and how to check the audit excerpt)::

    summary.html              one page for people: the image, the verdict, the match, the
                              sighting, the receipts, the flag's history
    flag.json                 the flag record with its history and the full check result
    found/<name>              the image as it was found, byte for byte
    matched/<request>/r<N>/<path>   each matched render, byte for byte as stored
    receipts/<...>.json       the consent receipts in force for the matched requests
    receipts/NONE.txt         or the statement that none exists
    audit/excerpt.jsonl       the audit entries about the flag and the matched requests
    audit/chain.jsonl         seq, prev and hash of every entry from the first of those to
                              the last in the log, so the excerpt's place in the chain holds
    audit/head.json           the chain head when the pack was made
    audit/verify.py           a stand-alone check of the three files above (Python 3, stdlib)
    README.txt                this list

Only the talent's side (the talent, their agents) or the library's local operator exports a
pack; the export is audited with the pack's SHA-256.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import io
import itertools
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageOps

from reviewer.domain.audit import AuditEntry
from reviewer.domain.misuse import flag_refusal
from reviewer.domain.receipt import receipt_file_bytes
from reviewer.domain.scope import short_date
from reviewer.services.consent_records import decision_in_force
from reviewer.services.files import write_atomically
from reviewer.services.flags import FlagRecord, FlagService
from reviewer.services.profiles import Session
from reviewer.services.refusals import PermissionRefused, Refusal
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import audit_head, audit_log

PACK_FORMAT = "reviewer.evidence-pack/1"
LOCAL_ACTOR = "(local)"


class EvidenceRefused(Refusal):
    pass


@dataclass(frozen=True, slots=True)
class EvidenceExport:
    path: Path
    flag_id: int
    sha256: str
    files: tuple[str, ...]
    audit_entries: int

    def summary(self) -> str:
        return (
            f"wrote the evidence pack of flag {self.flag_id} to {self.path} "
            f"({len(self.files)} files, {self.audit_entries} audit entries; "
            f"sha256 {self.sha256})"
        )


@dataclass
class _Pack:
    files: dict[str, bytes] = field(default_factory=dict)

    def add(self, name: str, data: bytes) -> str:
        base, n = name, 2
        while name in self.files:
            stem = PurePosixPath(base)
            name = str(stem.with_name(f"{stem.stem}-{n}{stem.suffix}"))
            n += 1
        self.files[name] = data
        return name


class EvidenceService:
    def __init__(self, library: Library, *, clock: Callable[[], dt.datetime] | None = None
                 ) -> None:
        self.library = library
        self._clock = clock

    def export(self, flag_id: int, out: Path, *, session: Session | None = None
               ) -> EvidenceExport:
        flags = FlagService(self.library)
        record = flags.get(flag_id, session=session)
        actor = session.name if session else LOCAL_ACTOR
        if session is not None:
            reason = flag_refusal(session.actor, talent_id=record.talent_id)
            if reason is not None:
                reason = reason.replace("flag misuse of", "export evidence about")
                with self.library.engine.begin() as conn:
                    audit.append(conn, actor=session.name, action="permission.refused",
                                 subject=record.subject,
                                 details={"attempted": "evidence.export", "reason": reason})
                raise PermissionRefused(reason)
        now = self._clock() if self._clock else dt.datetime.now(dt.UTC)
        made_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        pack = _Pack()
        evidence = self.library.objects.path_for(record.evidence_sha256)
        try:
            found_bytes = evidence.read_bytes()
        except OSError as exc:
            raise EvidenceRefused(
                f"flag {flag_id}: its evidence image {record.evidence_sha256[:12]}… is missing "
                f"from the library ({exc.strerror or exc})"
            ) from None
        if hashlib.sha256(found_bytes).hexdigest() != record.evidence_sha256:
            raise EvidenceRefused(
                f"flag {flag_id}: the stored evidence image no longer matches its SHA-256"
            )
        found_name = pack.add(f"found/{_safe_name(record.evidence_name)}", found_bytes)
        matches = [m for m in record.check.get("matches", []) if m.get("near_best", True)]
        matched_files: list[tuple[dict[str, Any], str | None]] = []
        for match in matches:
            asset = match["asset"]
            path = self.library.objects.path_for(asset["sha256"])
            try:
                data = path.read_bytes()
            except OSError:
                matched_files.append((match, None))
                continue
            name = pack.add(f"matched/{match['request']}/r{match['revision']}/{asset['path']}",
                            data)
            matched_files.append((match, name))
        receipts, statements = self._receipts(matches, pack)
        if statements:
            pack.add("receipts/NONE.txt", ("\n".join(statements) + "\n").encode("utf-8"))
        excerpt, chain, head = self._audit(record, matches)
        pack.add("audit/excerpt.jsonl", _jsonl([_entry_json(e) for e in excerpt]))
        pack.add("audit/chain.jsonl", _jsonl(chain))
        pack.add("audit/head.json", _json({"count": head[0], "hash": head[1],
                                           "exported_at": made_at}))
        pack.add("audit/verify.py", VERIFY_SCRIPT.encode("utf-8"))
        flag_json = record.to_json()
        pack.add("flag.json", _json({"format": PACK_FORMAT, "exported_at": made_at,
                                     "exported_by": actor, "flag": flag_json}))
        pack.add("summary.html", self._summary_html(
            record, found_bytes=found_bytes, found_name=found_name, matched=matched_files,
            receipts=receipts, statements=statements, audit_info=(len(excerpt), head),
            made_at=made_at, actor=actor,
        ).encode("utf-8"))
        pack.add("README.txt", (README.format(flag=flag_id) + "\n".join(
            f"  {name}" for name in sorted(pack.files)) + "\n").encode("utf-8"))
        data = _zip(pack.files, now)
        sha = hashlib.sha256(data).hexdigest()
        write_atomically(out.expanduser(), data)
        with self.library.engine.begin() as conn:
            audit.append(conn, actor=actor, action="evidence.exported", subject=record.subject,
                         at=made_at, details={"out": str(out), "sha256": sha,
                                              "audit_entries": len(excerpt)})
        return EvidenceExport(out, flag_id, sha, tuple(sorted(pack.files)), len(excerpt))

    # Receipts -----------------------------------------------------------------------------

    def _receipts(self, matches: list[dict[str, Any]], pack: _Pack
                  ) -> tuple[list[dict[str, Any]], list[str]]:
        receipts: list[dict[str, Any]] = []
        statements: list[str] = []
        if not matches:
            statements.append(
                "The image matches no render in this library, so no consent receipt covers it."
            )
        seen: set[tuple[str, int]] = set()
        with self.library.reader.connect() as conn:
            for match in matches:
                key = (match["request"], match["revision"])
                if key in seen:
                    continue
                seen.add(key)
                decision = decision_in_force(conn, *key)
                if decision is None:
                    statements.append(
                        f"No consent receipt exists for {key[0]} revision {key[1]}: the "
                        "talent has recorded no decision on it."
                    )
                    continue
                document = json.loads(decision.receipt_json)
                name = pack.add(f"receipts/{key[0]}-r{key[1]}-{decision.id}.json",
                                receipt_file_bytes(document))
                entry = {"request": key[0], "revision": key[1], "receipt_id": decision.id,
                         "verdict": decision.verdict.value, "file": name,
                         "decided_at": decision.decided_at, "revoked_at": decision.revoked_at,
                         "approved_until": (decision.approved_until.isoformat()
                                            if decision.approved_until else None)}
                if decision.revocation_json:
                    revocation = json.loads(decision.revocation_json)
                    entry["revocation_file"] = pack.add(
                        f"receipts/{key[0]}-r{key[1]}-{revocation['receipt_id']}-revocation.json",
                        receipt_file_bytes(revocation),
                    )
                receipts.append(entry)
        return receipts, statements

    # Audit --------------------------------------------------------------------------------

    def _audit(self, record: FlagRecord, matches: list[dict[str, Any]]
               ) -> tuple[list[AuditEntry], list[dict[str, Any]], tuple[int, str]]:
        subjects = {record.subject, f"talent:{record.talent_id}"}
        subjects |= {f"request:{m['request']}" for m in matches}
        with self.library.reader.connect() as conn:
            head_row = conn.execute(sa.select(audit_head.c.count, audit_head.c.hash)).first()
            head = (head_row.count, head_row.hash) if head_row else (0, "0" * 64)
            excerpt = sorted(
                (e for subject in subjects for e in audit.entries(conn, subject=subject)
                 if e.seq <= head[0]),
                key=lambda e: e.seq,
            )
            first = excerpt[0].seq if excerpt else head[0]
            chain = [
                {"seq": row.seq, "prev": row.prev_hash, "hash": row.hash}
                for row in conn.execute(
                    sa.select(audit_log.c.seq, audit_log.c.prev_hash, audit_log.c.hash)
                    .where(audit_log.c.seq >= first, audit_log.c.seq <= head[0])
                    .order_by(audit_log.c.seq)
                )
            ]
        return excerpt, chain, head

    # Summary ------------------------------------------------------------------------------

    def _summary_html(
        self,
        record: FlagRecord,
        *,
        found_bytes: bytes,
        found_name: str,
        matched: list[tuple[dict[str, Any], str | None]],
        receipts: list[dict[str, Any]],
        statements: list[str],
        audit_info: tuple[int, tuple[int, str]],
        made_at: str,
        actor: str,
    ) -> str:
        e = html.escape
        best_file = next((name for _, name in matched if name), None)
        best_image = (
            _data_uri(self.library.objects.path_for(matched[0][0]["asset"]["sha256"])
                      .read_bytes()) if best_file else None
        )
        rows = "".join(
            f"<tr><td>{e(m['request'])}</td><td>{m['revision']}</td><td>{e(m['talent'])}</td>"
            f"<td>{e(m['asset']['path'])}</td><td>{e(m['status'].replace('_', ' '))}</td>"
            f"<td>{m['distance']}</td><td>{m['similarity']:.3f}</td>"
            f"<td>{m['confidence']:.2f}</td></tr>"
            for m, _ in matched
        ) or '<tr><td colspan="8">No render in the library matches this image.</td></tr>'
        receipt_lines = "".join(
            f"<li>{e(r['request'])} revision {r['revision']}: {e(r['verdict'])} receipt "
            f"<code>{e(r['receipt_id'])}</code>, decided {e(r['decided_at'])}"
            + (f", approved until {e(r['approved_until'])}" if r["approved_until"] else "")
            + (f", <b>revoked {e(r['revoked_at'])}</b>" if r["revoked_at"] else "")
            + "</li>"
            for r in receipts
        ) + "".join(f"<li>{e(s)}</li>" for s in statements)
        history = "".join(
            f"<li>{e(h.at)}: {e(h.actor)} ({e(h.role)}) "
            f"{e(h.from_status.label + ' → ') if h.from_status else ''}{e(h.to_status.label)}"
            + (f": {e(h.note)}" if h.note else "") + "</li>"
            for h in record.history
        )
        sighting = record.sighting
        seen = [
            ("Where", sighting.seen_at or "not recorded"),
            ("When", short_date(sighting.seen_on) if sighting.seen_on else "not recorded"),
            ("Channel", sighting.channel or "not recorded"),
            ("Territory", sighting.territory or "not recorded"),
        ]
        count, (head_count, head_hash) = audit_info[0], audit_info[1]
        banner_class = "ok" if record.verdict == "approved_in_scope" else "bad"
        images = (
            f'<figure><img src="{_data_uri(found_bytes)}" alt="found image">'
            f"<figcaption>Found: {e(found_name)}</figcaption></figure>"
        )
        if best_image:
            images += (
                f'<figure><img src="{best_image}" alt="matched render">'
                f"<figcaption>Matched: {e(best_file or '')}</figcaption></figure>"
            )
        return SUMMARY_TEMPLATE.format(
            flag=record.id,
            talent=e(record.talent_id),
            status=e(record.status.label),
            severity=e(record.severity.value),
            banner_class=banner_class,
            verdict=e(record.verdict_text),
            scope=e(record.scope_check or ""),
            images=images,
            seen="".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in seen),
            notes=e(record.notes or "none"),
            rows=rows,
            receipts=receipt_lines,
            history=history,
            audit_count=count,
            head_count=head_count,
            head_hash=e(head_hash),
            made_at=e(made_at),
            actor=e(actor),
            created=e(f"{record.created_at} by {record.created_by}"),
        )


# Checking a pack --------------------------------------------------------------------------------


def verify_pack(path: Path) -> list[str]:
    """Problems with the audit excerpt of the evidence pack at *path* (empty: it holds).

    The same checks as ``audit/verify.py`` in the pack: every excerpt entry hashes to its
    hash, the chain links from the first excerpt entry to the head, and the excerpt entries
    sit in it where they say.
    """
    problems: list[str] = []
    with zipfile.ZipFile(path) as archive:
        excerpt = [json.loads(line) for line in archive.read("audit/excerpt.jsonl").splitlines()
                   if line.strip()]
        chain = [json.loads(line) for line in archive.read("audit/chain.jsonl").splitlines()
                 if line.strip()]
        head = json.loads(archive.read("audit/head.json"))
    by_seq = {link["seq"]: link for link in chain}
    for item in excerpt:
        entry = AuditEntry(item["seq"], item["at"], item["actor"], item["action"],
                           item["subject"], item["details"], item["prev"], item["hash"])
        if entry.computed_hash() != entry.hash:
            problems.append(f"audit entry {entry.seq}: its content does not match its hash")
        link = by_seq.get(entry.seq)
        if link is None or link["prev"] != entry.prev_hash or link["hash"] != entry.hash:
            problems.append(f"audit entry {entry.seq}: not where the chain says")
    for before, after in itertools.pairwise(chain):
        if after["seq"] != before["seq"] + 1 or after["prev"] != before["hash"]:
            problems.append(f"audit chain broken between entries {before['seq']} and "
                            f"{after['seq']}")
    if chain and (chain[-1]["seq"] != head["count"] or chain[-1]["hash"] != head["hash"]):
        problems.append("audit chain does not end at the recorded head")
    return problems


# Helpers ------------------------------------------------------------------------------------


def _entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {**entry.content(), "hash": entry.hash}


def _json(document: Any) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _jsonl(items: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(i, ensure_ascii=False, sort_keys=True) + "\n"
                   for i in items).encode("utf-8")


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).strip("._")
    return cleaned[:120] or "image"


def _data_uri(data: bytes, long_side: int = 480) -> str:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (long_side, long_side))
            small = ImageOps.exif_transpose(img).convert("RGB")
            small.thumbnail((long_side, long_side))
            out = io.BytesIO()
            small.save(out, "JPEG", quality=85)
    except (OSError, ValueError):
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _zip(files: dict[str, bytes], now: dt.datetime) -> bytes:
    stamp = now.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return out.getvalue()


README = """Evidence pack of misuse flag {flag}, made by Twin Reviewer.

summary.html is the one-page account. flag.json is the flag record. found/ holds the image as
it was found, matched/ the renders it matched, receipts/ the consent receipts in force for
them (check one with `reviewer verify FILE`) or the statement that none exists.

audit/ holds the audit entries about this flag and the matched requests (excerpt.jsonl),
the links of the log from the first of them to its head (chain.jsonl, head.json), and
verify.py, which checks them with nothing but Python 3:

    python3 audit/verify.py .      (in the unpacked folder)

Files:
"""

VERIFY_SCRIPT = '''"""Check the audit excerpt of a Twin Reviewer evidence pack (Python 3, stdlib).

    python3 verify.py PACK_FOLDER

Each entry's hash is SHA-256 over the canonical JSON (keys sorted, no spaces, UTF-8) of
{seq, at, actor, action, subject, details, prev}; each entry's prev is the hash of the entry
before it. The excerpt entries must hash correctly and sit in the chain; the chain must link
without a gap from the first excerpt entry to the head recorded when the pack was made. To tie
the head to the live library, compare head.json with the library's log (reviewer audit show).
"""
import hashlib
import json
import sys
from pathlib import Path


def canonical(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def main(folder):
    audit = Path(folder) / "audit"
    def lines(name):
        return [json.loads(x) for x in (audit / name).read_text("utf-8").splitlines() if x]

    excerpt, chain = lines("excerpt.jsonl"), lines("chain.jsonl")
    head = json.loads((audit / "head.json").read_text("utf-8"))
    problems = []
    links = {link["seq"]: link for link in chain}
    for entry in excerpt:
        keys = ("seq", "at", "actor", "action", "subject", "details", "prev")
        content = {k: entry[k] for k in keys}
        if hashlib.sha256(canonical(content)).hexdigest() != entry["hash"]:
            problems.append(f"entry {entry['seq']}: content does not match its hash")
        link = links.get(entry["seq"])
        if link is None or (link["prev"], link["hash"]) != (entry["prev"], entry["hash"]):
            problems.append(f"entry {entry['seq']}: not where the chain says")
    for before, after in zip(chain, chain[1:]):
        if after["seq"] != before["seq"] + 1 or after["prev"] != before["hash"]:
            problems.append(f"chain broken between {before['seq']} and {after['seq']}")
    if chain and (chain[-1]["seq"], chain[-1]["hash"]) != (head["count"], head["hash"]):
        problems.append("chain does not end at the recorded head")
    for problem in problems:
        print("NOT VERIFIED:", problem)
    if not problems:
        print(f"verified: {len(excerpt)} entries, chain of {len(chain)} links to head "
              f"{head['count']} {head['hash']}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
'''

SUMMARY_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Misuse flag {flag}: evidence</title>
<style>
body {{ font: 13px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 980px; }}
h1 {{ font-size: 20px; margin: 0 0 4px; }} h2 {{ font-size: 14px; margin: 16px 0 4px; }}
.banner {{ padding: 8px 12px; border-radius: 4px; font-weight: 600; margin: 8px 0; }}
.bad {{ background: #fde2e1; color: #8a1c14; }} .ok {{ background: #e1f5e4; color: #185c25; }}
figure {{ display: inline-block; margin: 0 12px 0 0; vertical-align: top; }}
img {{ max-height: 260px; border: 1px solid #ccc; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 2px 8px; text-align: left;
border-bottom: 1px solid #eee; }} code {{ font-size: 11px; }}
.small {{ color: #666; font-size: 11px; }}
</style></head><body>
<h1>Misuse flag {flag}: {talent}</h1>
<div class="small">Status {status}, severity {severity}. Flagged {created}.</div>
<div class="banner {banner_class}">{verdict}</div>
<div>{scope}</div>
<div>{images}</div>
<h2>Where and when it was seen</h2><table>{seen}</table>
<div>Notes: {notes}</div>
<h2>Matches</h2>
<table><tr><th>Request</th><th>Rev.</th><th>Talent</th><th>Render</th><th>Status today</th>
<th>Distance (bits)</th><th>Similarity</th><th>Confidence</th></tr>{rows}</table>
<h2>Consent receipts in force</h2><ul>{receipts}</ul>
<h2>History of the flag</h2><ul>{history}</ul>
<h2>Audit</h2>
<div>{audit_count} audit entries in audit/excerpt.jsonl, linked to the log's head (entry
{head_count}, <code>{head_hash}</code>) through audit/chain.jsonl; check them with
<code>python3 audit/verify.py .</code></div>
<p class="small">Made {made_at} by {actor} with Twin Reviewer.</p>
</body></html>
"""
