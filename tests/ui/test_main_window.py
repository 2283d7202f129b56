"""The first window on a demo library: queue, renders and the 3D view."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa
from PySide6.QtCore import Qt

from reviewer.storage.schema import requests


def _background_fraction(image: np.ndarray) -> float:
    """Share of pixels equal to the most common colour (the backdrop)."""
    flat = image.reshape(-1, image.shape[-1])[:, :3]
    _, counts = np.unique(flat, axis=0, return_counts=True)
    return counts.max() / len(flat)


def test_queue_lists_exactly_what_the_profile_may_see(make_main_window, demo_library_dir):
    talent = make_main_window(demo_library_dir)
    with talent.library.reader.connect() as conn:
        own = set(conn.execute(sa.select(requests.c.id).where(
            requests.c.talent_id == talent.session.actor.talent_id)).scalars())
        everything = set(conn.execute(sa.select(requests.c.id)).scalars())
    model = talent.queue.model
    assert {model.summary(row).id for row in range(model.rowCount())} == own
    assert 0 < len(own) < len(everything)
    agent = make_main_window(demo_library_dir, profile="Noor Haddad")
    model = agent.queue.model
    assert {model.summary(row).id for row in range(model.rowCount())} == everything


def test_selecting_a_request_shows_its_avatar_in_3d(make_main_window, demo_library_dir, qtbot):
    window = make_main_window(demo_library_dir)
    view = window.request_view
    window.queue.select_row(1)
    target = window.queue.current_request_id()
    assert target is not None
    with qtbot.waitSignal(view.avatar_shown, timeout=30_000):
        pass
    assert view.summary is not None and view.summary.id == target
    image = view.avatar_viewer.grab_image()
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    # The figure covers a real part of the view: far from a flat backdrop.
    assert _background_fraction(image) < 0.97
    assert float(image[..., :3].std()) > 5.0


def test_selecting_a_request_shows_its_first_render(make_main_window, demo_library_dir, qtbot):
    window = make_main_window(demo_library_dir)
    view = window.request_view
    window.queue.select_row(1)
    qtbot.waitUntil(lambda: view.image_viewer.image_size is not None, timeout=20_000)
    first_render = view.renders[0]
    assert view.image_viewer.image_size == (first_render.width, first_render.height)
    assert view.filmstrip.count() == len(view.renders)


def test_keyboard_moves_through_the_queue(make_main_window, demo_library_dir, qtbot):
    window = make_main_window(demo_library_dir)
    window.queue.select_row(0)
    first = window.queue.current_request_id()
    window.actions_by_name["next"].trigger()
    second = window.queue.current_request_id()
    assert second != first
    window.actions_by_name["previous"].trigger()
    assert window.queue.current_request_id() == first


def test_filter_narrows_the_queue(make_main_window, demo_library_dir, qtbot):
    window = make_main_window(demo_library_dir)
    model = window.queue.model
    total = model.rowCount()
    campaign = model.summary(0).campaign
    qtbot.keyClicks(window.queue.filter_edit, campaign)
    assert 0 < model.rowCount() < total
    for row in range(model.rowCount()):
        assert campaign.casefold() in model.summary(row).campaign.casefold()
    qtbot.keyClick(window.queue.filter_edit, Qt.Key.Key_Escape)
    assert model.rowCount() == total and window.queue.table.hasFocus()


def test_compare_action_opens_compare_mode_read_only(make_main_window, demo_library_dir, qtbot):
    from PySide6.QtWidgets import QApplication, QPushButton

    from reviewer.ui.compare_window import CompareWindow

    window = make_main_window(demo_library_dir)
    view = window.request_view
    row = next(r for r in range(window.queue.model.rowCount())
               if window.queue.model.summary(r).asset_count >= 4)
    window.queue.select_row(row)
    qtbot.waitUntil(lambda: len(view.avatars) >= 2, timeout=10_000)
    window.actions_by_name["compare"].trigger()
    opened = [w for w in QApplication.topLevelWidgets()
              if isinstance(w, CompareWindow) and w.isVisible()]
    assert len(opened) == 1
    compare = opened[0]
    # Read-only: no decision controls anywhere in compare mode.
    words = {b.text().split("…")[0].strip().casefold() for b in compare.findChildren(QPushButton)}
    assert not words & {"approve", "reject", "sign", "revoke approval"}
    compare.close()
