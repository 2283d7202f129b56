"""Fixtures for widget and whole-flow tests: a demo library built once, a signed-in main
window, a leak check. Imported by tests/ui/conftest.py and tests/e2e/conftest.py."""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

DEMO_TALENT_PROFILE = "Inês Duarte"


def _live_interactors() -> list[object]:
    from pyvistaqt import QtInteractor

    gc.collect()
    return [obj for obj in gc.get_objects()
            if isinstance(obj, QtInteractor) and not getattr(obj, "_closed", True)]


def _render_children() -> list[multiprocessing.process.BaseProcess]:
    from reviewer.render.frame_process import PROCESS_NAME

    return [p for p in multiprocessing.active_children() if p.name == PROCESS_NAME]


@pytest.fixture(autouse=True)
def _no_leaked_interactors() -> Iterator[None]:
    """Fail a test that leaves a QtInteractor (and its render window) open, or a full-frame
    render process alive."""
    before = {id(obj) for obj in _live_interactors()}
    children_before = {p.pid for p in _render_children()}
    yield
    leaked = [obj for obj in _live_interactors() if id(obj) not in before]
    for obj in leaked:
        obj.close()
    children = [p for p in _render_children() if p.pid not in children_before]
    for child in children:
        child.kill()
        child.join(5)
    assert not leaked, f"{len(leaked)} QtInteractor(s) left open by the test"
    assert not children, f"{len(children)} render process(es) left running by the test"


@pytest.fixture
def make_main_window(qtbot) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    from reviewer.storage.library import Library
    from reviewer.ui.application import create_application
    from reviewer.ui.main_window import MainWindow

    create_application([])
    made: list[tuple[MainWindow, Library]] = []

    def make(library_dir: Path, profile: str = DEMO_TALENT_PROFILE) -> MainWindow:
        from reviewer.services.demo_story import DEMO_PASSPHRASE
        from reviewer.services.profiles import ProfileService

        library = Library.open(library_dir)
        session = ProfileService(library).authenticate(profile, DEMO_PASSPHRASE)
        window = MainWindow(library, session)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: window.queue_ready, timeout=20_000)
        # Xvfb has no window manager to activate windows; shortcuts need an active window.
        window.windowHandle().requestActivate()
        qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
        made.append((window, library))
        return window

    yield make
    for window, library in made:
        window.close()
        library.close()
