"""Running slow work (loading meshes, decoding images, thumbnails) off the GUI thread."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Relay(QObject):
    # Emitted from the worker thread; Qt queues the call into the receiver's (GUI) thread.
    finished = Signal(int, object)
    failed = Signal(int, str)


class _Job(QRunnable):
    def __init__(self, token: int, work: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.token = token
        self.work = work
        self.relay = relay

    def run(self) -> None:
        try:
            result = self.work()
        except Exception as exc:  # reported to the GUI as an inline message, never raised
            reason = str(exc) or type(exc).__name__
            traceback.print_exc()
            self.relay.failed.emit(self.token, reason)
        else:
            self.relay.finished.emit(self.token, result)


class LatestOnlyRunner(QObject):
    """Runs jobs in a thread pool and delivers only the result of the newest one.

    Moving quickly through the queue starts many loads; older ones finish into the void
    instead of overwriting what the user now looks at.
    """

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._relay = _Relay(self)
        self._relay.finished.connect(self._on_finished)
        self._relay.failed.connect(self._on_failed)
        self._token = 0
        self._callbacks: tuple[Callable[[Any], None], Callable[[str], None]] | None = None

    @property
    def busy(self) -> bool:
        return self._callbacks is not None

    def start(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
    ) -> int:
        self._token += 1
        self._callbacks = (on_done, on_error)
        self._pool.start(_Job(self._token, work, self._relay))
        return self._token

    def cancel(self) -> None:
        """Forget the running job: its result will be dropped."""
        self._token += 1
        self._callbacks = None

    def _on_finished(self, token: int, result: object) -> None:
        if token == self._token and self._callbacks is not None:
            on_done, _ = self._callbacks
            self._callbacks = None
            on_done(result)

    def _on_failed(self, token: int, reason: str) -> None:
        if token == self._token and self._callbacks is not None:
            _, on_error = self._callbacks
            self._callbacks = None
            on_error(reason)
