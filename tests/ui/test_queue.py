"""The queue model and panel: filters, counts, sorting, selection, thumbnails."""

from __future__ import annotations

import datetime as dt
import random

from PySide6.QtCore import Qt

from reviewer.domain.status import RequestStatus
from reviewer.services.queries import RequestSummary
from reviewer.ui.queue_model import (
    CAMPAIGN_COLUMN,
    DUE_COLUMN,
    STATUS_COLUMN,
    THUMB_COLUMN,
    QueueModel,
)
from reviewer.ui.queue_panel import QueuePanel

CAMPAIGNS = ["SS27 Denim", "Aure Nuit", "Northline Run", "Vista Sun", "Fjord Knits"]


def _summaries(n: int, seed: int = 7) -> list[RequestSummary]:
    rng = random.Random(seed)
    statuses = list(RequestStatus)
    out = []
    for i in range(n):
        out.append(RequestSummary(
            id=f"req-{i:06d}", revision=1, talent_id="t", talent_name="Talent",
            campaign=rng.choice(CAMPAIGNS), requester="Mara Lind",
            organisation=f"Brand {i % 9}", status=rng.choice(statuses),
            channels_json='["social"]', territories_json='["EU"]',
            start=dt.date(2027, 1, 1), end=dt.date(2027, 6, 30), fee_text="100.00",
            fee_currency="EUR", due=dt.date(2026, 12, 1) + dt.timedelta(days=rng.randrange(90)),
            asset_count=2,
        ))
    return out


def _visible(model: QueueModel) -> list[RequestSummary]:
    return [model.summary(r) for r in range(model.rowCount())]


def test_filters_counts_and_sorting_over_many_requests(qtbot):
    rows = _summaries(20_000)
    model = QueueModel()
    model.set_rows(rows)
    assert model.rowCount() == len(rows)
    assert [s.id for s in _visible(model)] == [
        s.id for s in sorted(rows, key=lambda s: (s.due, s.id))]

    model.set_filter(status="approved")
    expected = {s.id for s in rows if s.status is RequestStatus.APPROVED}
    assert {s.id for s in _visible(model)} == expected
    assert model.status_counts()["approved"] == len(expected)

    model.set_filter(text="vista")
    assert {s.id for s in _visible(model)} == {
        s.id for s in rows if s.status is RequestStatus.APPROVED and s.campaign == "Vista Sun"}

    model.set_filter(text="", status=None)
    model.sort(CAMPAIGN_COLUMN, Qt.SortOrder.DescendingOrder)
    campaigns = [s.campaign.casefold() for s in _visible(model)]
    assert campaigns == sorted(campaigns, reverse=True)
    some = rows[1234]
    assert model.summary(model.row_of(some.id)).id == some.id


def test_a_request_filtered_out_has_no_row(qtbot):
    model = QueueModel()
    rows = _summaries(50)
    model.set_rows(rows)
    hidden = next(s for s in rows if s.status is not RequestStatus.PENDING)
    model.set_filter(status="pending")
    assert model.row_of(hidden.id) is None


def test_status_chips_filter_and_keep_the_selection(qtbot):
    panel = QueuePanel()
    qtbot.addWidget(panel)
    rows = _summaries(300)
    panel.set_requests(rows)
    pending = [s for s in rows if s.status is RequestStatus.PENDING]
    panel.select(pending[3].id)
    qtbot.mouseClick(panel.status_buttons["pending"], Qt.MouseButton.LeftButton)
    assert panel.model.rowCount() == len(pending)
    assert panel.current_request_id() == pending[3].id
    assert panel.status_buttons["pending"].text().endswith(str(len(pending)))
    qtbot.mouseClick(panel.status_buttons[None], Qt.MouseButton.LeftButton)
    assert panel.model.rowCount() == len(rows)


def test_the_status_column_shows_every_status_whole(qtbot):
    panel = QueuePanel()
    qtbot.addWidget(panel)
    rows = _summaries(60)
    assert {s.status for s in rows} == set(RequestStatus)
    panel.set_requests(rows)
    panel.resize(900, 500)
    panel.show()
    qtbot.waitExposed(panel)
    # What the delegate needs to draw the longest label ("Changes requested") unelided.
    needed = panel.table.sizeHintForColumn(STATUS_COLUMN)
    assert needed > 0
    assert panel.table.columnWidth(STATUS_COLUMN) >= needed


def test_next_pending_follows_the_queue_order(qtbot):
    panel = QueuePanel()
    qtbot.addWidget(panel)
    rows = _summaries(200)
    panel.set_requests(rows)
    order = [panel.model.summary(r) for r in range(panel.model.rowCount())]
    pending = [s.id for s in order if s.status is RequestStatus.PENDING]
    assert panel.next_pending_after(pending[0]) == pending[1]
    assert panel.next_pending_after(pending[-1]) == pending[0]  # wraps round


def test_thumbnails_of_first_renders_appear(qtbot, demo_library_dir):
    from reviewer.services.queries import list_requests
    from reviewer.storage.library import Library
    from reviewer.ui.thumbnails import ThumbnailProvider

    library = Library.open(demo_library_dir)
    try:
        provider = ThumbnailProvider(library)
        model = QueueModel(provider)
        model.set_rows(list_requests(library))
        index = model.index(0, THUMB_COLUMN)
        assert model.data(index, Qt.ItemDataRole.DecorationRole) is None  # being made
        with qtbot.waitSignal(provider.ready, timeout=10_000):
            pass
        qtbot.waitUntil(lambda: model.data(index, Qt.ItemDataRole.DecorationRole) is not None)
        pixmap = model.data(index, Qt.ItemDataRole.DecorationRole)
        assert 0 < max(pixmap.width(), pixmap.height()) <= 96
        assert (library.root / "cache" / "thumbnails").is_dir()
        provider.wait()
    finally:
        library.close()


def test_overdue_due_dates_are_marked(qtbot):
    rows = _summaries(40)
    model = QueueModel(today=dt.date(2027, 1, 15))
    model.set_rows(rows)
    for row in range(model.rowCount()):
        s = model.summary(row)
        brush = model.data(model.index(row, DUE_COLUMN), Qt.ItemDataRole.ForegroundRole)
        overdue = s.status.value in ("pending", "changes_requested") and s.due < model.today
        assert (brush is not None) == overdue or s.status is RequestStatus.APPROVED
