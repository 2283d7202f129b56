"""Consent receipts: the signed record of a decision or a revocation (see docs/receipt.md).

A receipt file holds exactly ``canonical_json(document) + b"\\n"``. The signature is Ed25519
over ``canonical_json(document without "signature")``. Reading is strict: unknown or missing
keys, upper-case hex, a non-canonical byte form are all refused, so that one changed byte
anywhere in the file makes it fail.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from reviewer.domain.canonical import canonical_json, sha256_hex
from reviewer.domain.manifest import describe_validation_error

RECEIPT_FORMAT = "reviewer.consent-receipt/1"
SIGNATURE_ALGORITHM = "Ed25519"

Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Hex128 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{128}$")]
_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
ReceiptId = Annotated[str, StringConstraints(pattern=_UUID)]
UtcTime = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]
IsoDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class ReceiptFormatError(ValueError):
    """Not a well-formed receipt; ``str()`` is one readable line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class FileDigest(_Strict):
    path: str
    sha256: Hex64


class AssetDigest(_Strict):
    path: str
    role: Literal["avatar", "render"]
    sha256: Hex64


class Requester(_Strict):
    name: str
    organisation: str


class RequestPart(_Strict):
    id: str
    revision: int = Field(ge=1)
    campaign: str
    requester: Requester
    manifest_sha256: Hex64
    content_digest: Hex64
    assets: list[AssetDigest]
    files: list[FileDigest]


class TalentPart(_Strict):
    id: str
    name: str
    public_key: Hex64
    key_fingerprint: Hex64


class ScopePart(_Strict):
    channels: list[str]
    territories: list[str]
    start: IsoDate
    end: IsoDate
    categories: list[str]
    voice: bool


class FeePart(_Strict):
    amount: str
    currency: str


class FindingPart(_Strict):
    level: Literal["ok", "warning", "violation"]
    rule: str
    text: str


class PolicyPart(_Strict):
    version: int | None
    findings: list[FindingPart]
    overridden: bool


class DecisionPart(_Strict):
    verdict: Literal["approved", "rejected", "changes_requested"]
    decided_by: str
    decided_at: UtcTime
    reason: str | None
    conditions: str | None
    scope_requested: ScopePart
    scope_approved: ScopePart | None
    approved_until: IsoDate | None
    fee: FeePart
    policy: PolicyPart
    supersedes: ReceiptId | None


class RevocationPart(_Strict):
    revokes: ReceiptId
    revokes_sha256: Hex64
    reason: str
    revoked_by: str
    revoked_at: UtcTime


class SignaturePart(_Strict):
    algorithm: Literal["Ed25519"]
    value: Hex128


class DecisionReceipt(_Strict):
    format: Literal["reviewer.consent-receipt/1"]
    receipt_id: ReceiptId
    kind: Literal["decision"]
    request: RequestPart
    talent: TalentPart
    decision: DecisionPart
    signature: SignaturePart


class RevocationReceipt(_Strict):
    format: Literal["reviewer.consent-receipt/1"]
    receipt_id: ReceiptId
    kind: Literal["revocation"]
    request: RequestPart
    talent: TalentPart
    revocation: RevocationPart
    signature: SignaturePart


Receipt = DecisionReceipt | RevocationReceipt


def key_fingerprint(public_key: bytes) -> str:
    """SHA-256 of the raw 32-byte Ed25519 public key, in lower-case hex."""
    return sha256_hex(public_key)


def signed_bytes(document: dict[str, Any]) -> bytes:
    """The bytes the signature covers: the canonical form without the ``signature`` key."""
    return canonical_json({k: v for k, v in document.items() if k != "signature"})


def with_signature(document: dict[str, Any], signature: bytes) -> dict[str, Any]:
    return {**document, "signature": {"algorithm": SIGNATURE_ALGORITHM, "value": signature.hex()}}


def receipt_file_bytes(document: dict[str, Any]) -> bytes:
    """What a receipt file holds: the canonical form and one newline."""
    return canonical_json(document) + b"\n"


def receipt_sha256(document: dict[str, Any]) -> str:
    """The digest by which a revocation names the receipt it revokes."""
    return sha256_hex(canonical_json(document))


def parse_receipt(raw: bytes) -> tuple[Receipt, dict[str, Any]]:
    """Read a receipt file strictly; return the typed receipt and the plain document."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ReceiptFormatError("is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ReceiptFormatError(f"is not valid JSON ({exc.msg}, byte {exc.pos})") from None
    if not isinstance(document, dict):
        raise ReceiptFormatError("is not a JSON object")
    try:
        canonical = receipt_file_bytes(document)
    except (TypeError, ValueError) as exc:
        raise ReceiptFormatError(f"cannot be put in canonical form ({exc})") from None
    if raw != canonical:
        at = next(
            (i for i, (a, b) in enumerate(zip(raw, canonical, strict=False)) if a != b),
            min(len(raw), len(canonical)),
        )
        raise ReceiptFormatError(
            f"is not in canonical form (differs at byte {at}); it was "
            "changed or re-formatted after it was written"
        )
    model = RevocationReceipt if document.get("kind") == "revocation" else DecisionReceipt
    try:
        receipt = model.model_validate(document)
    except ValidationError as exc:
        raise ReceiptFormatError(describe_validation_error(exc)) from None
    return receipt, document


def request_part(
    *,
    request_id: str,
    revision: int,
    campaign: str,
    requester_name: str,
    requester_organisation: str,
    manifest_sha256: str,
    content_digest: str,
    assets: list[tuple[str, str, str]],
    files: dict[str, str],
) -> dict[str, Any]:
    """*assets* as (path, role, sha256) in manifest order; *files* every stored file by path."""
    return {
        "id": request_id,
        "revision": revision,
        "campaign": campaign,
        "requester": {"name": requester_name, "organisation": requester_organisation},
        "manifest_sha256": manifest_sha256,
        "content_digest": content_digest,
        "assets": [{"path": p, "role": r, "sha256": s} for p, r, s in assets],
        "files": [{"path": p, "sha256": files[p]} for p in sorted(files)],
    }


def talent_part(*, talent_id: str, name: str, public_key: bytes) -> dict[str, Any]:
    return {
        "id": talent_id,
        "name": name,
        "public_key": public_key.hex(),
        "key_fingerprint": key_fingerprint(public_key),
    }


def decision_document(
    *,
    receipt_id: str,
    request: dict[str, Any],
    talent: dict[str, Any],
    decision: dict[str, Any],
) -> dict[str, Any]:
    return {
        "format": RECEIPT_FORMAT,
        "receipt_id": receipt_id,
        "kind": "decision",
        "request": request,
        "talent": talent,
        "decision": decision,
    }


def revocation_document(
    *,
    receipt_id: str,
    request: dict[str, Any],
    talent: dict[str, Any],
    revoked: dict[str, Any],
    reason: str,
    revoked_by: str,
    revoked_at: str,
) -> dict[str, Any]:
    return {
        "format": RECEIPT_FORMAT,
        "receipt_id": receipt_id,
        "kind": "revocation",
        "request": request,
        "talent": talent,
        "revocation": {
            "revokes": revoked["receipt_id"],
            "revokes_sha256": receipt_sha256(revoked),
            "reason": reason,
            "revoked_by": revoked_by,
            "revoked_at": revoked_at,
        },
    }


def utc_timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(receipt: Receipt) -> str:
    """One line: what the receipt records."""
    req = receipt.request
    if isinstance(receipt, RevocationReceipt):
        return (
            f"revocation of receipt {receipt.revocation.revokes} for {req.id} revision "
            f"{req.revision}, {receipt.revocation.revoked_at}"
        )
    verdict = receipt.decision.verdict.replace("_", " ")
    return f"{verdict}: {req.id} revision {req.revision}, {receipt.decision.decided_at}"
