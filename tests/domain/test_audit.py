"""The audit chain rule, without a database: hashes, links, the head record."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

from reviewer.domain.audit import GENESIS_HASH, AuditEntry, check_chain


def chain(n: int) -> list[AuditEntry]:
    """*n* entries linked the way the log writes them."""
    entries: list[AuditEntry] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        entry = AuditEntry(
            seq=seq,
            at=f"2026-11-28T10:00:{seq:02}Z",
            actor="importer",
            action="request.imported",
            subject=f"request:r{seq}",
            details={"revision": 1, "note": "Élodie ✓"},
            prev_hash=prev,
        )
        entry = dataclasses.replace(entry, hash=entry.computed_hash())
        entries.append(entry)
        prev = entry.hash
    return entries


def head_of(entries: list[AuditEntry]) -> tuple[int, str]:
    return (len(entries), entries[-1].hash)


def test_the_hash_is_sha256_of_the_canonical_content() -> None:
    entry = chain(1)[0]
    # Written out by hand from the rule: sorted keys, no spaces, UTF-8, the previous hash.
    expected = hashlib.sha256(
        json.dumps(
            {
                "action": "request.imported",
                "actor": "importer",
                "at": "2026-11-28T10:00:01Z",
                "details": {"note": "Élodie ✓", "revision": 1},
                "prev": GENESIS_HASH,
                "seq": 1,
                "subject": "request:r1",
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")
    ).hexdigest()
    assert entry.hash == expected


@pytest.mark.parametrize("field", ["at", "actor", "action", "subject", "prev_hash"])
def test_every_field_is_covered_by_the_hash(field: str) -> None:
    entry = chain(1)[0]
    assert (
        dataclasses.replace(entry, **{field: getattr(entry, field) + "x"}).computed_hash()
        != entry.hash
    )


def test_details_are_covered_by_the_hash() -> None:
    entry = chain(1)[0]
    assert (
        dataclasses.replace(entry, details={"revision": 2, "note": "Élodie ✓"}).computed_hash()
        != entry.hash
    )


def test_an_intact_chain_passes() -> None:
    entries = chain(5)
    assert check_chain(entries, head_of(entries)) is None


def test_an_empty_log_without_a_head_passes() -> None:
    assert check_chain([], None) is None


def test_an_edited_entry_is_named() -> None:
    entries = chain(5)
    entries[2] = dataclasses.replace(entries[2], actor="someone else")
    problem = check_chain(entries, head_of(entries))
    assert problem is not None
    assert problem.seq == 3
    assert "edited" in str(problem) and "audit entry 3" in str(problem)


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link() -> None:
    entries = chain(5)
    forged = dataclasses.replace(entries[1], details={"revision": 9})
    entries[1] = dataclasses.replace(forged, hash=forged.computed_hash())
    problem = check_chain(entries, head_of(chain(5)))
    assert problem is not None and problem.seq == 3
    assert "does not follow" in problem.reason


def test_a_deleted_middle_entry_is_named() -> None:
    entries = chain(5)
    del entries[1]
    problem = check_chain(entries, head_of(chain(5)))
    assert problem is not None and problem.seq == 2
    assert "missing" in problem.reason


def test_a_deleted_first_entry_is_named() -> None:
    entries = chain(4)[1:]
    problem = check_chain(entries, head_of(chain(4)))
    assert problem is not None and problem.seq == 1


def test_a_deleted_last_entry_is_caught_by_the_head() -> None:
    full = chain(5)
    problem = check_chain(full[:-1], head_of(full))
    assert problem is not None and problem.seq == 5
    assert "the log held 5 entries, 4 remain" in problem.reason


def test_a_log_emptied_entirely_is_caught_by_the_head() -> None:
    full = chain(3)
    problem = check_chain([], head_of(full))
    assert problem is not None and problem.seq == 1


def test_a_deleted_head_record_is_caught() -> None:
    entries = chain(3)
    problem = check_chain(entries, None)
    assert problem is not None and "head" in problem.reason


def test_a_head_pointing_elsewhere_is_caught() -> None:
    entries = chain(3)
    problem = check_chain(entries, (3, "f" * 64))
    assert problem is not None and problem.seq == 3


def test_two_swapped_entries_are_named() -> None:
    entries = chain(5)
    entries[1], entries[2] = entries[2], entries[1]
    problem = check_chain(entries, head_of(chain(5)))
    assert problem is not None and problem.seq == 2
    assert "found entry 3 in its place" in problem.reason


def test_swapped_sequence_numbers_are_caught() -> None:
    # Rows keep their content but trade seq values (what UPDATE ... SET seq does).
    entries = chain(5)
    second, third = entries[1], entries[2]
    entries[1] = dataclasses.replace(third, seq=2)
    entries[2] = dataclasses.replace(second, seq=3)
    problem = check_chain(entries, head_of(chain(5)))
    assert problem is not None and problem.seq == 2
