"""A process deciding in a loop, killed with SIGKILL at random moments: no decision is ever
half written (a row without its receipt or audit entry, or the reverse), and every decision
it reported as saved is there afterwards."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from consent_world import INES_REQUEST, PASSPHRASE, World

from reviewer.services.receipts import verify_receipt
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import decisions

DECIDER = textwrap.dedent(f"""
    import sys
    from pathlib import Path

    from reviewer.services.profiles import ProfileService
    from reviewer.services.review import ReviewService
    from reviewer.storage.library import Library

    library = Library.open(Path(sys.argv[1]))
    ines = ProfileService(library).authenticate("Ines Duarte", sys.argv[2])
    review = ReviewService(library)
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        if i % 4 == 0:
            result = review.revoke(ines, "{INES_REQUEST}", reason=f"round {{i}}")
            print("revoked", result.revokes, flush=True)
        else:
            result = review.approve(ines, "{INES_REQUEST}", conditions=f"round {{i}}")
            print("decided", result.receipt_id, flush=True)
""")


def check_consistent(root: Path, reported: dict[str, set[str]]) -> int:
    with Library.open(root) as library:
        # One connection at a time: this engine begins every transaction IMMEDIATE.
        with library.engine.connect() as conn:
            assert audit.verify(conn) is None
            rows = conn.execute(sa.select(decisions)).all()
            entries = audit.entries(conn)
        recorded = {e.details["receipt_id"] for e in entries if e.action == "decision.recorded"}
        revoked = {e.details["revokes"] for e in entries if e.action == "decision.revoked"}
        assert {r.id for r in rows} == recorded
        assert {r.id for r in rows if r.revoked_at is not None} == revoked
        assert reported["decided"] <= recorded
        assert reported["revoked"] <= revoked
        assert sorted(r.seq for r in rows) == list(range(1, len(rows) + 1))
        for row in rows:
            check = verify_receipt(row.receipt_json.encode() + b"\n", library=library)
            assert check.ok, check.problems
            if row.revoked_at is not None:
                revocation = json.loads(row.revocation_json)
                assert revocation["revocation"]["revokes"] == row.id
                assert verify_receipt(row.revocation_json.encode() + b"\n", library=library).ok
        return len(rows)


@pytest.mark.slow
def test_sigkill_never_leaves_half_a_decision(world: World, tmp_path: Path) -> None:
    world.library.close()
    script = tmp_path / "decider.py"
    script.write_text(DECIDER)
    rng = random.Random(20261128)
    total_reported = 0
    for _round in range(6):
        process = subprocess.Popen(
            [sys.executable, str(script), str(world.root), PASSPHRASE],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == "ready\n", process.stderr.read()
            time.sleep(rng.uniform(0.0, 0.35))
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        output = process.stdout.read()
        reported: dict[str, set[str]] = {"decided": set(), "revoked": set()}
        for line in output.split("\n")[:-1]:  # the last piece may be cut short
            kind, receipt_id = line.split()
            reported[kind].add(receipt_id)
        total_reported += len(reported["decided"])
        check_consistent(world.root, reported)
    assert total_reported > 10  # the loop really ran while it was killed
