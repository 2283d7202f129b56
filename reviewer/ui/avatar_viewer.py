"""The 3D view of a twin: one pyvistaqt interactor, owned and wrapped, never subclassed.

``AvatarViewer`` shows an already loaded :class:`reviewer.assets.meshes.Avatar` (loading runs
on a worker thread elsewhere) or, in its place, an inline message such as why a file cannot be
shown. Scene building lives in :mod:`reviewer.render.scene`, shared with off-screen renders and
tests; this widget only adds the Qt around it. Call it from the GUI thread only.
"""

from __future__ import annotations

import os

# pyvistaqt reaches Qt through qtpy, which must be told which binding to use before the import.
os.environ.setdefault("QT_API", "pyside6")

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget
from pyvistaqt import QtInteractor

from reviewer.render import scene

if TYPE_CHECKING:
    from reviewer.assets.meshes import Avatar
    from reviewer.render.scene import LightingPreset, RenderMode, SceneHandle, ViewName

# pyvista's default key bindings act on the whole plotter behind our back ("q" prepares to
# close it, "v" jumps to an isometric view, "+"/"-" thicken lines); VTK's interactor style
# adds its own ("w" wireframe, "3" stereo, "e"/"q" exit). The app declares its shortcuts as
# actions, so the viewer swallows none of them.
_PYVISTA_KEYS = ("q", "b", "v", "C", "Up", "Down", "plus", "minus")

_MESSAGE_STYLE = (
    f"background: {scene.BACKGROUND_BOTTOM}; color: #b9bcc1; padding: 24px; font-size: 13px;"
)
_LOADING_STYLE = (
    f"background: {scene.BACKGROUND_BOTTOM}; color: #7d8087; padding: 24px; font-size: 13px;"
)


class AvatarViewer(QWidget):
    """Shows one avatar in 3D, or a message in its place.

    Owns a ``pyvistaqt.QtInteractor`` with ``auto_update=False``: nothing re-renders on a
    timer; every change here renders once, explicitly. ``closeEvent`` closes the interactor
    and its render window.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._interactor = QtInteractor(self, auto_update=False)
        # A file dropped on a bare QtInteractor is read and shown with pyvista.read, skipping
        # every check in reviewer.assets: nothing reaches this view except through the caller.
        self._interactor.setAcceptDrops(False)
        self._silence_default_keys()
        scene.prepare_plotter(self._interactor)

        self._message = QLabel(self)
        self._message.setObjectName("avatarViewerMessage")
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._message.setStyleSheet(_MESSAGE_STYLE)

        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)
        self._stack.addWidget(self._interactor)
        self._stack.addWidget(self._message)
        self._stack.setCurrentWidget(self._interactor)

        self._handle: SceneHandle | None = None
        self._closed = False

    # -- what is shown ---------------------------------------------------------------------------
    @property
    def avatar(self) -> Avatar | None:
        """The avatar on display, or None while empty or showing a message."""
        return None if self._handle is None else self._handle.avatar

    @property
    def message(self) -> str | None:
        """The message on display instead of the 3D view, or None."""
        if self._stack.currentWidget() is self._message:
            return self._message.text()
        return None

    @property
    def plotter(self) -> QtInteractor:
        """The interactor, for linking cameras in a comparison. Do not add actors to it."""
        return self._interactor

    def show_avatar(
        self,
        avatar: Avatar,
        *,
        mode: RenderMode = "textured",
        lighting: LightingPreset = "studio",
        view: ViewName = "front",
    ) -> None:
        """Show *avatar*, standing, framed from the front (or *view*)."""
        if self._closed:
            return
        self._handle = scene.show_avatar(
            self._interactor, avatar, mode=mode, lighting=lighting, view=view
        )
        self._stack.setCurrentWidget(self._interactor)
        self._interactor.render()

    def show_message(self, text: str) -> None:
        """Replace the 3D view with *text*, e.g. naming a file that cannot be shown."""
        self._show_text(text, _MESSAGE_STYLE)

    def show_loading(self, text: str = "Loading…") -> None:
        """Replace the 3D view with a quieter note while a load runs elsewhere."""
        self._show_text(text, _LOADING_STYLE)

    def clear(self) -> None:
        """Show an empty 3D view (and let the avatar's meshes go)."""
        self._drop_scene()
        self._stack.setCurrentWidget(self._interactor)
        if not self._closed:
            self._interactor.render()

    # -- camera and look -----------------------------------------------------------------------
    def reset_camera(self) -> None:
        """Frame the whole figure from the front again."""
        self.set_view("front")

    def set_view(self, name: ViewName) -> None:
        """Look from "front", "back", "left", "right" or "three_quarter"."""
        if self._closed:
            return
        scene.set_view(self._interactor, name)
        self._interactor.render()

    def set_mode(self, mode: RenderMode) -> None:
        """Show the figure "textured", "solid" (clay) or as a "wireframe"."""
        if self._handle is None or self._closed:
            return
        scene.set_mode(self._handle, mode)
        self._interactor.render()

    def set_lighting(self, preset: LightingPreset) -> None:
        """Light the figure "studio", "soft" or "rim"."""
        if self._closed:
            return
        scene.set_lighting(self._interactor, preset)
        if self._handle is not None:
            self._handle.lighting = preset
        self._interactor.render()

    # -- images ----------------------------------------------------------------------------------
    def grab_image(self) -> np.ndarray:
        """The 3D view as an (H, W, 3) uint8 array, rendered now."""
        if self._closed:
            raise RuntimeError("the avatar viewer is closed")
        image = self._interactor.screenshot(None, return_img=True)
        return np.asarray(image, dtype=np.uint8)

    def screenshot(self, path: Path) -> None:
        """Save the 3D view as an image file (format from the suffix, e.g. .png)."""
        from PIL import Image

        Image.fromarray(self.grab_image()).save(path)

    # -- lifetime --------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.close_interactor()
        super().closeEvent(event)

    def close_interactor(self) -> None:
        """Close the interactor and free its render window; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._handle = None
        self._interactor.close()

    # -- internals -------------------------------------------------------------------------------
    def _show_text(self, text: str, style: str) -> None:
        self._drop_scene()
        self._message.setStyleSheet(style)
        self._message.setText(text)
        self._stack.setCurrentWidget(self._message)

    def _drop_scene(self) -> None:
        self._handle = None
        if not self._closed:
            scene.clear_scene(self._interactor)

    def _silence_default_keys(self) -> None:
        for key in _PYVISTA_KEYS:
            self._interactor.clear_events_for_key(key, raise_on_missing=False)
        interactor = getattr(self._interactor, "iren", None)
        if interactor is not None:
            # The interactor style listens for CharEvent to run VTK's own key bindings.
            interactor.interactor.RemoveObservers("CharEvent")
