"""How the review queue scales: 1,000 / 10,000 / 100,000 requests.

Builds libraries whose rows are written straight through SQLAlchemy Core (no files: the
queue reads rows only), then times, as medians over several runs in this one process:
reading the queue (``list_requests``), loading it into the Qt model, filtering by text and
status, and sorting by another column. Run: ``python bench/queue_scale.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


from reviewer.services.queries import list_requests
from reviewer.storage.library import Library
from reviewer.storage.schema import assets, requests, revisions, talents

CAMPAIGNS = ["SS27 Denim", "Aure Nuit Fragrance", "Northline Run Club", "Vista Sun 2027",
             "Fjord AW27 Knits", "Resort 27 Lookbook", "Atelier Blanc Bridal"]


def build(root: Path, n: int) -> Library:
    library = Library.open(root)
    now = "2026-11-28T10:00:00Z"
    talent_ids = [f"talent-{i:03d}" for i in range(50)]
    with library.engine.begin() as conn:
        conn.execute(talents.insert(), [
            {"id": t, "display_name": f"Talent {t[-3:]}", "created_at": now} for t in talent_ids])
        conn.execute(requests.insert(), [
            {"id": f"req-{i:06d}", "talent_id": talent_ids[i % 50], "latest_revision": 1,
             "created_at": now} for i in range(n)])
        start = dt.date(2027, 1, 1)
        conn.execute(revisions.insert(), [
            {"request_id": f"req-{i:06d}", "revision": 1, "content_digest": "0" * 64,
             "manifest_sha256": "0" * 64, "manifest_json": "{}",
             "campaign": CAMPAIGNS[i % len(CAMPAIGNS)], "brief": "A use of the twin.",
             "requester_name": "Mara Lind", "requester_organisation": f"Brand {i % 40}",
             "requester_email": "mara@example.com", "channels": ["social"],
             "territories": ["EU"], "categories": [], "voice": False, "start_date": start,
             "end_date": start + dt.timedelta(days=180), "fee_amount": "1800.00",
             "fee_currency": "EUR", "due_date": start + dt.timedelta(days=i % 365),
             "imported_at": now, "source_name": "bench"} for i in range(n)])
        conn.execute(assets.insert(), [
            {"request_id": f"req-{i:06d}", "revision": 1, "position": 0,
             "path": "renders/front.jpg", "role": "render", "label": "Front",
             "sha256": f"{i:064x}", "size": 1, "media_type": "image/jpeg"} for i in range(n)])
    return library


def median_seconds(work, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from reviewer.ui.queue_model import CAMPAIGN_COLUMN, QueueModel

    QApplication.instance() or QApplication(sys.argv[:1])
    print(f"{'requests':>9} | {'read (s)':>9} | {'model (s)':>9} | {'filter (s)':>10} | "
          f"{'status (s)':>10} | {'sort (s)':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            library = build(Path(tmp) / f"lib{n}", n)
            rows = list_requests(library)
            model = QueueModel()
            read = median_seconds(lambda lib=library: list_requests(lib), args.runs)
            load = median_seconds(lambda m=model, r=rows: m.set_rows(r), args.runs)
            text = median_seconds(lambda m=model: (m.set_filter(text="fragrance"),
                                                   m.set_filter(text="")), args.runs) / 2
            status = median_seconds(lambda m=model: (m.set_filter(status="pending"),
                                                     m.set_filter(status=None)), args.runs) / 2
            sort = median_seconds(lambda m=model: m.sort(CAMPAIGN_COLUMN,
                                                         Qt.SortOrder.DescendingOrder), args.runs)
            print(f"{n:>9,} | {read:>9.3f} | {load:>9.3f} | {text:>10.3f} | {status:>10.3f} | "
                  f"{sort:>9.3f}")
            library.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
