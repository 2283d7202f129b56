"""The request view loads off the GUI thread, ignores stale loads and shows errors in place."""

from __future__ import annotations

import os

from reviewer.services.queries import list_requests, request_assets


def _break_object(library, sha256: str) -> None:  # type: ignore[no-untyped-def]
    """Damage a stored file the way a failing disk or a tampering hand would."""
    path = library.objects.path_for(sha256)
    os.chmod(path, 0o644)
    path.write_bytes(b"these bytes are not what was imported")
    # The viewer reads avatars from a laid-out copy; drop it so the damage is seen.
    import shutil

    shutil.rmtree(library.root / "cache" / "layout", ignore_errors=True)


def test_an_avatar_that_cannot_be_shown_becomes_a_message(make_main_window, demo_library_dir,
                                                          qtbot):
    window = make_main_window(demo_library_dir)
    view = window.request_view
    summary = list_requests(window.library, talent_ids=[window.session.actor.talent_id])[-1]
    avatar = next(a for a in request_assets(window.library, summary.id) if a.role == "avatar")
    _break_object(window.library, avatar.sha256)
    window.queue.select(summary.id)
    qtbot.waitUntil(lambda: view.avatar_viewer.message is not None
                    and avatar.path in view.avatar_viewer.message, timeout=20_000)
    # The rest of the window keeps working: the renders still show.
    qtbot.waitUntil(lambda: view.image_viewer.image_size is not None, timeout=20_000)


def test_a_render_that_cannot_be_shown_becomes_a_message(make_main_window, demo_library_dir,
                                                         qtbot):
    window = make_main_window(demo_library_dir)
    view = window.request_view
    summary = list_requests(window.library, talent_ids=[window.session.actor.talent_id])[-1]
    render = next(a for a in request_assets(window.library, summary.id) if a.role == "render")
    _break_object(window.library, render.sha256)
    window.queue.select(summary.id)
    qtbot.waitUntil(lambda: (view.image_viewer.message() or "").startswith(
        f"Cannot show {render.path}"), timeout=20_000)


def test_moving_quickly_shows_the_last_request_only(make_main_window, demo_library_dir, qtbot):
    window = make_main_window(demo_library_dir, profile="Noor Haddad")
    view = window.request_view
    shown: list[str] = []
    view.avatar_shown.connect(lambda path: shown.append(view.summary.id))
    for _ in range(6):
        window.actions_by_name["next"].trigger()
    last = window.queue.current_request_id()
    qtbot.waitUntil(lambda: bool(shown) and not view.loading, timeout=30_000)
    qtbot.wait(300)
    assert set(shown) == {last}
