"""One request: its header, the 3D avatar, the selected render and a filmstrip of renders."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reviewer.services.queries import (
    AssetView,
    RequestSummary,
    asset_local_path,
    request_assets,
)
from reviewer.storage.library import Library
from reviewer.ui.avatar_viewer import SHORTCUTS, AvatarViewer
from reviewer.ui.image_viewer import ImageViewer, pil_to_qimage
from reviewer.ui.theme import STATUS_COLOURS
from reviewer.ui.workers import LatestOnlyRunner

THUMB = QSize(132, 132)


def _load_avatar(library: Library, asset: AssetView):  # type: ignore[no-untyped-def]
    from reviewer.services.avatars import open_avatar

    return open_avatar(library, asset)


def _load_image(path: Path):  # type: ignore[no-untyped-def]
    from reviewer.assets.images import open_display_image

    return pil_to_qimage(open_display_image(path))


def _load_thumbnails(paths: list[Path]):  # type: ignore[no-untyped-def]
    from reviewer.assets.images import open_display_image

    size = (THUMB.width() * 2, THUMB.height() * 2)
    return [pil_to_qimage(open_display_image(p, max_size=size)) for p in paths]


class RequestHeader(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(self)
        self.title.setProperty("class", "heading")
        self.subtitle = QLabel(self)
        self.subtitle.setProperty("class", "subheading")
        self.status = QLabel(self)
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title)
        text.addWidget(self.subtitle)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 6)
        layout.addLayout(text, 1)
        layout.addWidget(self.status)

    def show_summary(self, s: RequestSummary | None) -> None:
        if s is None:
            self.title.setText("No request selected")
            self.subtitle.setText("Pick a request from the queue.")
            self.status.setText("")
            return
        self.title.setText(f"{s.campaign}  ·  {s.talent_name}")
        self.subtitle.setText(
            f"{s.id}  ·  revision {s.revision}  ·  {s.requester}, {s.organisation}  ·  "
            f"due {s.due:%d %b %Y}"
        )
        colour = STATUS_COLOURS[s.status.value]
        self.status.setText(
            f"<span style='color:{colour}; font-size:12pt'>●</span>"
            f"&nbsp;&nbsp;<b>{s.status.label}</b>"
        )


class RequestView(QWidget):
    """Shows a request; loads its avatar and renders on worker threads."""

    avatar_shown = Signal(str)  # asset path
    render_shown = Signal(str)

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.summary: RequestSummary | None = None
        self.assets: list[AssetView] = []
        self.header = RequestHeader(self)
        self.avatar_viewer = AvatarViewer(self)
        self.image_viewer = ImageViewer(self)
        self.looks_bar = QWidget(self)
        self._looks_layout = QHBoxLayout(self.looks_bar)
        self._looks_layout.setContentsMargins(8, 0, 8, 0)
        self._looks_group = QButtonGroup(self)
        self._looks_group.idClicked.connect(self.show_look)
        self.filmstrip = QListWidget(self)
        self.filmstrip.setViewMode(QListWidget.ViewMode.IconMode)
        self.filmstrip.setFlow(QListWidget.Flow.LeftToRight)
        self.filmstrip.setWrapping(False)
        self.filmstrip.setIconSize(THUMB)
        self.filmstrip.setFixedHeight(THUMB.height() + 34)
        self.filmstrip.setMovement(QListWidget.Movement.Static)
        self.filmstrip.setUniformItemSizes(True)
        self.filmstrip.setSpacing(4)
        self.filmstrip.setGridSize(QSize(THUMB.width() + 24, THUMB.height() + 30))
        self.filmstrip.currentRowChanged.connect(self._on_filmstrip_row_changed)

        avatar_column = QWidget(self)
        avatar_layout = QVBoxLayout(avatar_column)
        avatar_layout.setContentsMargins(0, 0, 0, 0)
        avatar_layout.setSpacing(4)
        avatar_layout.addWidget(self.avatar_viewer, 1)
        avatar_layout.addWidget(self.looks_bar)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(avatar_column)
        self.splitter.addWidget(self.image_viewer)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([600, 420])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.filmstrip)

        self._avatar_runner = LatestOnlyRunner(self)
        self._image_runner = LatestOnlyRunner(self)
        self._thumb_runner = LatestOnlyRunner(self)
        self.current_look: int | None = None
        self.show_request(None)

    # -- what the rest of the window calls ---------------------------------------------------
    def show_request(self, summary: RequestSummary | None) -> None:
        self.summary = summary
        self.header.show_summary(summary)
        self.assets = [] if summary is None else request_assets(self.library, summary.id)
        self._rebuild_looks()
        self._rebuild_filmstrip()
        if summary is None:
            self._avatar_runner.cancel()
            self.avatar_viewer.show_message("Select a request to see the twin in 3D.")
            self.image_viewer.show_message("Renders appear here.")
            return
        if self.avatars:
            self.show_look(0)
        else:
            self.avatar_viewer.show_message("This request has no 3D avatar.")
        if self.renders:
            self.filmstrip.setCurrentRow(0)
        else:
            self.image_viewer.show_message("This request has no renders.")

    @property
    def avatars(self) -> list[AssetView]:
        return [a for a in self.assets if a.role == "avatar"]

    @property
    def renders(self) -> list[AssetView]:
        return [a for a in self.assets if a.role == "render"]

    @property
    def loading(self) -> bool:
        return self._avatar_runner.busy or self._image_runner.busy

    def show_look(self, index: int) -> None:
        if not 0 <= index < len(self.avatars):
            return
        asset = self.avatars[index]
        self.current_look = index
        button = self._looks_group.button(index)
        if button is not None:
            button.setChecked(True)
        self.avatar_viewer.show_loading(f"Loading {asset.label}…")
        library = self.library
        self._avatar_runner.start(
            lambda: _load_avatar(library, asset),
            lambda avatar: self._on_avatar_loaded(asset, avatar),
            lambda reason: self.avatar_viewer.show_message(f"Cannot show {asset.path}:\n{reason}"),
        )

    def avatar_actions(self) -> list[tuple]:  # type: ignore[type-arg]
        """(menu, name, text, keys, slot) for the 3D view, declared by the main window."""
        viewer = self.avatar_viewer
        keys = SHORTCUTS
        views = [("front", "Front view"), ("back", "Back view"), ("left", "Left view"),
                 ("right", "Right view"), ("three_quarter", "Three-quarter view")]
        actions: list[tuple] = [  # type: ignore[type-arg]
            ("View", f"view_{name}", text, keys[name],
             lambda _c=False, n=name: viewer.set_view(n))
            for name, text in views
        ]
        actions += [
            ("View", "turntable", "&Turntable", keys["turntable"], viewer.toggle_turntable),
            ("View", "mode", "Textured / solid / &wireframe", keys["mode"], viewer.cycle_mode),
            ("View", "lighting", "&Lighting: studio / soft / rim", keys["lighting"],
             viewer.cycle_lighting),
            ("View", "up_axis", "Which axis is &up (remembered per file)", keys["up_axis"],
             viewer.cycle_up_axis),
            ("View", "screenshot", "Save a &screenshot of the 3D view…", keys["screenshot"],
             viewer.save_screenshot),
        ]
        return actions

    # -- internals ----------------------------------------------------------------------------
    def _on_avatar_loaded(self, asset: AssetView, avatar: object) -> None:
        self.avatar_viewer.show_avatar(avatar, asset_key=asset.sha256)
        self.avatar_shown.emit(asset.path)

    def _rebuild_looks(self) -> None:
        for button in self._looks_group.buttons():
            self._looks_group.removeButton(button)
            button.deleteLater()
        while self._looks_layout.count():
            self._looks_layout.takeAt(0)
        for i, asset in enumerate(self.avatars):
            button = QToolButton(self.looks_bar)
            button.setText(f"{i + 1}  {asset.label}" if i < 9 else asset.label)
            button.setCheckable(True)
            button.setToolTip(
                f"{asset.path}  ({asset.triangles or 0:,} triangles)"
                + (f"  ·  key {i + 1}" if i < 9 else "")
            )
            self._looks_group.addButton(button, i)
            self._looks_layout.addWidget(button)
        self._looks_layout.addStretch(1)
        self.looks_bar.setVisible(len(self.avatars) > 1)

    def _rebuild_filmstrip(self) -> None:
        self.filmstrip.blockSignals(True)
        self.filmstrip.clear()
        placeholder = QPixmap(THUMB)
        placeholder.fill(Qt.GlobalColor.black)
        for asset in self.renders:
            item = QListWidgetItem(QIcon(placeholder), asset.label)
            item.setToolTip(f"{asset.path}  ·  {asset.width}×{asset.height}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.filmstrip.addItem(item)
        self.filmstrip.blockSignals(False)
        self.filmstrip.setVisible(bool(self.renders))
        paths = [asset_local_path(self.library, a) for a in self.renders]
        if paths:
            self._thumb_runner.start(
                lambda: _load_thumbnails(paths), self._on_thumbnails, lambda _reason: None
            )

    def _on_thumbnails(self, images: list) -> None:  # type: ignore[type-arg]
        for row, image in enumerate(images):
            item = self.filmstrip.item(row)
            if item is not None:
                item.setIcon(QIcon(QPixmap.fromImage(image)))

    def _on_filmstrip_row_changed(self, row: int) -> None:
        if not 0 <= row < len(self.renders):
            return
        asset = self.renders[row]
        path = asset_local_path(self.library, asset)
        self.image_viewer.show_message(f"Loading {asset.label}…")
        self._image_runner.start(
            lambda: _load_image(path),
            lambda image: self._on_image_loaded(asset, image),
            lambda reason: self.image_viewer.show_message(f"Cannot show {asset.path}:\n{reason}"),
        )

    def _on_image_loaded(self, asset: AssetView, image: object) -> None:
        self.image_viewer.show_image(image)  # type: ignore[arg-type]
        self.render_shown.emit(asset.path)
