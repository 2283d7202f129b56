"""Small pictures of renders for the queue, made off the GUI thread and cached on disk."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from reviewer.storage.library import Library

SIZE = 96


class _Relay(QObject):
    loaded = Signal(str, QImage)


class _Load(QRunnable):
    def __init__(self, sha256: str, source: Path, cache: Path, relay: _Relay) -> None:
        super().__init__()
        self.sha256, self.source, self.cache, self.relay = sha256, source, cache, relay

    def run(self) -> None:
        from reviewer.assets.images import cached_thumbnail

        try:
            path = cached_thumbnail(self.source, self.cache, self.sha256, SIZE)
            image = QImage(str(path))
        except Exception:
            image = QImage()
        self.relay.loaded.emit(self.sha256, image)


class ThumbnailProvider(QObject):
    """``pixmap(sha)`` answers at once: the picture, or None while it is being made."""

    ready = Signal(str)

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.cache_dir = library.root / "cache" / "thumbnails"
        self._pixmaps: dict[str, QPixmap] = {}
        self._pending: set[str] = set()
        self._failed: set[str] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # leave the other core to the 3D view
        self._relay = _Relay(self)
        self._relay.loaded.connect(self._on_loaded)

    def pixmap(self, sha256: str) -> QPixmap | None:
        found = self._pixmaps.get(sha256)
        if found is None and sha256 not in self._pending and sha256 not in self._failed:
            self._pending.add(sha256)
            source = self.library.objects.path_for(sha256)
            self._pool.start(_Load(sha256, source, self.cache_dir, self._relay))
        return found

    def _on_loaded(self, sha256: str, image: QImage) -> None:
        self._pending.discard(sha256)
        if image.isNull():
            self._failed.add(sha256)
        else:
            self._pixmaps[sha256] = QPixmap.fromImage(image)
            self.ready.emit(sha256)

    def wait(self) -> None:
        self._pool.waitForDone()
