"""The audit chain rule: each entry's hash covers its content and the previous entry's hash."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reviewer.domain.canonical import canonical_json, sha256_hex

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str  # UTC ISO 8601 with seconds, e.g. 2026-11-28T11:02:47Z
    actor: str
    action: str
    subject: str
    details: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def content(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": self.details,
            "prev": self.prev_hash,
        }

    def computed_hash(self) -> str:
        return sha256_hex(canonical_json(self.content()))


@dataclass(frozen=True, slots=True)
class ChainProblem:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"audit entry {self.seq}: {self.reason}"


def check_chain(
    entries: list[AuditEntry], head: tuple[int, str] | None
) -> ChainProblem | None:
    """Return the first problem in *entries* (in stored order), or None if the chain is intact.

    *head* is the separately stored (count, last hash) pair, which catches a deleted tail.
    """
    prev = GENESIS_HASH
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq:
            reason = "is missing" if entry.seq > expected_seq else "is out of order"
            return ChainProblem(expected_seq, f"{reason} (found entry {entry.seq} in its place)")
        if entry.prev_hash != prev:
            return ChainProblem(entry.seq, "does not follow the entry before it (reordered or "
                                "an earlier entry was changed)")
        if entry.computed_hash() != entry.hash:
            return ChainProblem(entry.seq, "was edited after it was written (hash mismatch)")
        prev = entry.hash
        expected_seq += 1
    count = expected_seq - 1
    if head is None:
        if count:
            return ChainProblem(count, "the chain head record is missing")
        return None
    head_count, head_hash = head
    if head_count != count:
        return ChainProblem(count + 1, f"is missing: the log held {head_count} entries, "
                            f"{count} remain")
    if head_hash != prev:
        return ChainProblem(count, "the last entry does not match the recorded chain head")
    return None
