"""Two to four looks side by side, each in its own avatar view, cameras linked.

The grid loads each look on a worker thread, shows it in an
:class:`~reviewer.ui.avatar_viewer.AvatarViewer` under a label naming the look, its request and
revision, and puts every view in one :class:`~reviewer.ui.camera_link.CameraLink`. View
presets, lighting, display mode and the turntable are set here for all views at once, so the
looks are always seen the same way; the viewers' own bars are hidden for that reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from reviewer.ui.avatar_viewer import AvatarViewer
from reviewer.ui.workers import LatestOnlyRunner

if TYPE_CHECKING:
    from reviewer.assets.meshes import Avatar
    from reviewer.render.scene import LightingPreset, RenderMode, ViewName
    from reviewer.services.compare_sets import AssetRef
    from reviewer.services.queries import AssetView
    from reviewer.storage.library import Library
    from reviewer.ui.camera_link import CameraLink

NO_PROXY = 1 << 40
"""Compare views draw every look whole: passed as both the triangle count and the texture size
above which a proxy is built, no mesh or texture gets one. A viewer showing a proxy has its
full-detail frames drawn by a render process of its own: up to four looks side by side would
mean four such processes on a laptop's cores and memory, each holding its look's full copy.
(A proxied view would stay truthful when a linked camera moves it: the viewer notices, drops
its full frame and asks for a new one once the camera rests.)"""

_HEADER_STYLE = "background: #18191b; border-bottom: 1px solid #26282b;"


def _load_for_display(library: Library, asset: AssetView) -> Any:
    from reviewer.render.proxy import prepare_for_display
    from reviewer.services.avatars import open_avatar

    return prepare_for_display(
        open_avatar(library, asset), proxy_above=NO_PROXY, texture_size=NO_PROXY
    )


def hide_viewer_bar(viewer: AvatarViewer) -> None:
    """Hide the viewer's own bar of controls: in a comparison one toolbar drives all views."""
    bar = viewer.findChild(QWidget, "avatarViewerBar")
    if bar is not None:
        bar.hide()


class LookPane(QWidget):
    """One look: a two-line label over its avatar view."""

    def __init__(self, ref: AssetRef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ref = ref
        self.title = QLabel(ref.label, self)
        self.title.setObjectName("lookTitle")
        self.title.setStyleSheet("color: #e4e5e7; font-weight: 600; background: transparent;")
        latest = " (latest)" if ref.revision == ref.latest_revision else ""
        self.subtitle = QLabel(
            f"{ref.request_id} · revision {ref.revision}{latest} · {ref.campaign}", self
        )
        self.subtitle.setStyleSheet("color: #8d8f93; background: transparent;")
        header = QWidget(self)
        header.setObjectName("lookHeader")
        header.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        header.setStyleSheet(f"#lookHeader {{ {_HEADER_STYLE} }}")
        text = QVBoxLayout(header)
        text.setContentsMargins(10, 5, 10, 5)
        text.setSpacing(1)
        text.addWidget(self.title)
        text.addWidget(self.subtitle)
        # No warm-up: the main window's viewer has paid VTK's one-time costs; four more
        # sample renders would only delay the looks.
        self.viewer = AvatarViewer(
            self, proxy_above=NO_PROXY, proxy_texture_size=NO_PROXY, warm_up=False
        )
        hide_viewer_bar(self.viewer)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header)
        layout.addWidget(self.viewer, 1)


class LookGrid(QWidget):
    """The looks of a comparison in a grid of linked avatar views."""

    look_shown = Signal(int)
    all_shown = Signal()

    def __init__(self, library: Library, link: CameraLink, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.link = link
        self.panes: list[LookPane] = []
        self._runners: list[LatestOnlyRunner] = []
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(3)
        self._mode: RenderMode = "textured"
        self._lighting: LightingPreset = "studio"
        self._view: ViewName = "front"

    # -- the looks -------------------------------------------------------------------------------
    @property
    def viewers(self) -> list[AvatarViewer]:
        return [pane.viewer for pane in self.panes]

    @property
    def refs(self) -> list[AssetRef]:
        return [pane.ref for pane in self.panes]

    def avatars(self) -> list[Avatar | None]:
        """The avatars on show, stood on the up axis chosen for each (None while loading)."""
        return [viewer.avatar for viewer in self.viewers]

    @property
    def loading(self) -> bool:
        return any(runner.busy for runner in self._runners)

    def set_looks(self, refs: list[AssetRef]) -> None:
        """Show *refs* (avatars), replacing whatever the grid showed."""
        self.close_viewers()
        columns = 2 if len(refs) == 4 else max(len(refs), 1)
        for index, ref in enumerate(refs):
            pane = LookPane(ref, self)
            self.panes.append(pane)
            self._grid.addWidget(pane, index // columns, index % columns)
            self.link.add(pane.viewer)
            runner = LatestOnlyRunner(self)
            self._runners.append(runner)
            pane.viewer.show_loading(f"Loading {ref.label}…")
            runner.start(
                lambda asset=ref.asset: _load_for_display(self.library, asset),
                lambda display, i=index: self._on_loaded(i, display),
                lambda reason, i=index: self._on_failed(i, reason),
            )

    def _on_loaded(self, index: int, display: Any) -> None:
        if index >= len(self.panes):
            return
        pane = self.panes[index]
        pane.viewer.show_avatar(
            display,
            asset_key=pane.ref.asset.sha256,
            mode=self._mode,
            lighting=self._lighting,
            view=self._view,
        )
        # The first look to arrive sets the camera; later ones take the shared one.
        self.link.adopt(pane.viewer)
        self.look_shown.emit(index)
        if not self.loading:
            self.all_shown.emit()

    def _on_failed(self, index: int, reason: str) -> None:
        if index < len(self.panes):
            pane = self.panes[index]
            pane.viewer.show_message(f"Cannot show {pane.ref.asset.path}:\n{reason}")
        if not self.loading:
            self.all_shown.emit()

    # -- seen the same way -----------------------------------------------------------------------
    def set_view(self, name: ViewName) -> None:
        """Look at every figure from *name* (framing the tallest, so that all fit)."""
        self._view = name
        shown = [v for v in self.viewers if v.avatar is not None]
        if not shown:
            return
        if self.link.linked:
            tallest = max(shown, key=_height_metres)
            tallest.set_view(name)
            self.link.sync_from(tallest)
        else:
            for viewer in shown:
                viewer.set_view(name)

    def set_lighting(self, preset: LightingPreset) -> None:
        self._lighting = preset
        for viewer in self.viewers:
            viewer.set_lighting(preset)

    def set_mode(self, mode: RenderMode) -> None:
        self._mode = mode
        for viewer in self.viewers:
            viewer.set_mode(mode)

    @property
    def lighting(self) -> LightingPreset:
        return self._lighting

    @property
    def mode(self) -> RenderMode:
        return self._mode

    # -- lifetime --------------------------------------------------------------------------------
    def close_viewers(self) -> None:
        for runner in self._runners:
            runner.cancel()
        self._runners = []
        for pane in self.panes:
            self.link.remove(pane.viewer)
            pane.viewer.close_interactor()
            self._grid.removeWidget(pane)
            pane.hide()
            pane.deleteLater()
        self.panes = []


def _height_metres(viewer: AvatarViewer) -> float:
    avatar = viewer.avatar
    if avatar is None:
        return 0.0
    return avatar.height_metres or avatar.height


__all__ = ["NO_PROXY", "LookGrid", "LookPane", "hide_viewer_bar"]
