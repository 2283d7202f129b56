"""The receipt document: canonical bytes, strict reading, what the signature covers."""

from __future__ import annotations

import json

import pytest

from reviewer.domain.receipt import (
    ReceiptFormatError,
    decision_document,
    key_fingerprint,
    parse_receipt,
    receipt_file_bytes,
    receipt_sha256,
    request_part,
    revocation_document,
    signed_bytes,
    talent_part,
    with_signature,
)

KEY = bytes(range(32))
SCOPE = {
    "channels": ["social"],
    "territories": ["EU"],
    "start": "2027-02-01",
    "end": "2027-07-31",
    "categories": [],
    "voice": False,
}


def document() -> dict:
    request = request_part(
        request_id="ss27",
        revision=2,
        campaign="SS27 Denim",
        requester_name="Mara Lind",
        requester_organisation="Brand Studio",
        manifest_sha256="a" * 64,
        content_digest="b" * 64,
        assets=[("renders/front.png", "render", "c" * 64)],
        files={"renders/front.png": "c" * 64},
    )
    unsigned = decision_document(
        receipt_id="0f8c2a4e-1b2c-4d5e-8f90-123456789abc",
        request=request,
        talent=talent_part(talent_id="ines-duarte", name="Inês Duarte", public_key=KEY),
        decision={
            "verdict": "approved",
            "decided_by": "Inês Duarte",
            "decided_at": "2026-11-28T11:02:47Z",
            "reason": None,
            "conditions": None,
            "scope_requested": SCOPE,
            "scope_approved": SCOPE,
            "approved_until": "2027-07-31",
            "fee": {"amount": "1800.00", "currency": "EUR"},
            "policy": {"version": None, "findings": [], "overridden": False},
            "supersedes": None,
        },
    )
    return with_signature(unsigned, bytes(range(64)))


def test_a_receipt_file_is_its_canonical_form() -> None:
    doc = document()
    raw = receipt_file_bytes(doc)
    assert raw.endswith(b"}\n") and b" " not in raw.split(b'"Mara Lind"')[0][:20]
    receipt, parsed = parse_receipt(raw)
    assert parsed == doc
    assert receipt.talent.key_fingerprint == key_fingerprint(KEY)
    assert "Inês".encode() in raw  # UTF-8, not \u escapes


def test_the_signature_covers_everything_but_itself() -> None:
    doc = document()
    covered = json.loads(signed_bytes(doc))
    assert "signature" not in covered
    assert covered == {k: v for k, v in doc.items() if k != "signature"}


@pytest.mark.parametrize(
    "change",
    [
        lambda raw: json.dumps(json.loads(raw), indent=2).encode(),  # re-formatted
        lambda raw: raw.replace(b'"revision":2', b'"revision":2.0'),
        lambda raw: raw.rstrip(b"\n"),
        lambda raw: raw.replace(b'"format"', b'"format":"x","format"', 1),  # duplicate key
    ],
)
def test_anything_but_the_canonical_bytes_is_refused(change) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ReceiptFormatError):
        parse_receipt(change(receipt_file_bytes(document())))


def test_strict_fields() -> None:
    doc = document()
    doc["signature"]["value"] = doc["signature"]["value"].upper()
    with pytest.raises(ReceiptFormatError, match=r"signature\.value"):
        parse_receipt(receipt_file_bytes(doc))
    doc = document()
    doc["extra"] = 1
    with pytest.raises(ReceiptFormatError, match="unknown key"):
        parse_receipt(receipt_file_bytes(doc))


def test_a_revocation_names_the_exact_receipt_it_revokes() -> None:
    revoked = document()
    revocation = revocation_document(
        receipt_id="1f8c2a4e-1b2c-4d5e-8f90-123456789abc",
        request=revoked["request"],
        talent=revoked["talent"],
        revoked=revoked,
        reason="Used outside the EU",
        revoked_by="Inês Duarte",
        revoked_at="2026-12-01T09:00:00Z",
    )
    receipt, _ = parse_receipt(receipt_file_bytes(with_signature(revocation, bytes(64))))
    assert receipt.revocation.revokes == revoked["receipt_id"]
    assert receipt.revocation.revokes_sha256 == receipt_sha256(revoked)
