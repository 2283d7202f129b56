"""The 3D view of a twin: one pyvistaqt interactor, owned and wrapped, never subclassed.

``AvatarViewer`` shows an already loaded avatar (loading runs on a worker thread elsewhere) or,
in its place, an inline message such as why a file cannot be shown. Scene building lives in
:mod:`reviewer.render.scene`, shared with off-screen renders and tests; this widget adds the Qt
around it: a thin bar of controls under the view, the turntable, the per-asset up axis, and
keeping the GUI thread free while a big avatar is on screen. Call it from the GUI thread only.

How it stays fast on software OpenGL (see /work/shared/perf-notes.md):

- It renders once per frame. pyvistaqt's widget draws every frame twice (once when VTK is
  asked to render, again when Qt paints); here VTK's render requests only schedule a Qt
  paint, and the paint renders.
- While the camera moves, a big view is drawn at reduced resolution (about
  :data:`MOTION_PIXELS` device pixels) and scaled up to fill the widget; at rest it is drawn at
  full resolution again. On software OpenGL most of a frame's cost is per pixel (shading,
  texturing), so a quarter of the pixels makes orbiting 2-3 times smoother. Mouse positions are
  scaled to the smaller window, so rotating, panning and zooming feel the same.
- An avatar with a proxy (:mod:`reviewer.render.proxy`: one of more than half a million
  triangles, or one whose texture has more than 1024² pixels, whose proxy keeps its mesh and
  halves only the texture) is drawn on screen as its proxy only. When the camera comes to
  rest, a render process (:class:`reviewer.render.frame_process.FrameProcess`, started with
  the viewer) draws the full avatar off screen and the finished frame is laid over the view
  until the camera moves again. The GUI process never uploads or draws the full mesh or the
  full-size texture. A heavy avatar given without a proxy goes to the render process at once
  (its first full frame is drawn there while a worker thread builds the proxy); the view
  shows it when the first of the two is ready.
- Without the render process (REVIEWER_FULL_FRAME_PROCESS=0, or it failed to start or died)
  the full avatar is drawn on screen at rest instead; then a heavy avatar given without a
  proxy is shown at full detail as soon as its textures are ready and its proxy is built on a
  worker thread after that first frame, since it is only needed once the camera moves.
"""

from __future__ import annotations

import os

# pyvistaqt reaches Qt through qtpy, which must be told which binding to use before the import.
os.environ.setdefault("QT_API", "pyside6")

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QStackedLayout,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from pyvistaqt import QtInteractor

from reviewer.assets.meshes import UP_AXES
from reviewer.render import scene
from reviewer.render.frame_process import FrameProcess
from reviewer.render.full_frame import (
    CameraState,
    FrameRequest,
    FullFrameRenderer,
    apply_camera_state,
    camera_state,
)
from reviewer.render.proxy import (
    PROXY_ABOVE_TRIANGLES,
    PROXY_TEXTURE_SIZE,
    PROXY_TRIANGLES,
    DisplayAvatar,
    has_big_texture,
    needs_proxy,
    prepare_for_display,
    with_proxy,
)

if TYPE_CHECKING:
    from reviewer.assets.meshes import Avatar, UpAxis
    from reviewer.render.scene import LightingPreset, RenderMode, SceneHandle, ViewName

# pyvista's default key bindings act on the whole plotter behind our back ("q" prepares to
# close it, "v" jumps to an isometric view, "+"/"-" thicken lines); VTK's interactor style
# adds its own ("w" wireframe, "3" stereo, "e"/"q" exit). The app declares its shortcuts as
# actions, so the viewer swallows none of them.
_PYVISTA_KEYS = ("q", "b", "v", "C", "Up", "Down", "plus", "minus")

SHORTCUTS: dict[str, str] = {
    "front": "Ctrl+1",
    "back": "Ctrl+2",
    "left": "Ctrl+3",
    "right": "Ctrl+4",
    "three_quarter": "Ctrl+5",
    "reset": "F",
    "turntable": "T",
    "mode": "M",
    "lighting": "L",
    "up_axis": "U",
    "screenshot": "Ctrl+Shift+S",
}
"""The keys the main window binds to this viewer's slots; the bar's tooltips show them."""

VIEW_LABELS: dict[str, str] = {
    "front": "Front",
    "back": "Back",
    "left": "Left",
    "right": "Right",
    "three_quarter": "¾",
}
MODE_LABELS: dict[str, str] = {"textured": "Textured", "solid": "Solid", "wireframe": "Wireframe"}
LIGHTING_LABELS: dict[str, str] = {"studio": "Studio", "soft": "Soft", "rim": "Rim"}

TURNTABLE_DEGREES_PER_SECOND = 30.0
_TURNTABLE_TICK_MS = 15
_LIVE_AFTER_FRAME_MS = 15
_REST_DELAY_MS = 180  # the camera counts as at rest this long after the last wheel step
MOTION_PIXELS = 200_000
"""While the camera moves, views bigger than this many device pixels are drawn at about this
many (566×354 for a 1280×800 view) and scaled up: measured on llvmpipe, a 1280×800 frame of a
textured proxy costs 45-55 ms to draw, the same at 640×400 about 15 ms. 200 k rather than
260 k (640×400) turned a two-sided 1 M figure's proxy at 35 frames a second instead of 33,
side by side, for edges a little softer while the figure moves."""
COVERED_PIXELS = 16_000
"""A live scene added under a full-detail frame (hidden by it) is drawn once at about this many
device pixels (160×100 for a 1280×800 view), without showing it: that uploads the proxy's mesh
and textures before the camera moves, at next to no cost to draw (see :meth:`_draw_hidden`)."""
# Mouse events carry positions in device pixels of the full view; while the view is drawn
# smaller they are scaled before VTK's interactor style reads them.
_MOUSE_EVENTS = (
    "MouseMoveEvent",
    "LeftButtonPressEvent",
    "LeftButtonReleaseEvent",
    "MiddleButtonPressEvent",
    "MiddleButtonReleaseEvent",
    "RightButtonPressEvent",
    "RightButtonReleaseEvent",
    "MouseWheelForwardEvent",
    "MouseWheelBackwardEvent",
)
_UP_AXIS_SETTING = "avatar_viewer/up_axis/"

_MESSAGE_STYLE = (
    f"background: {scene.BACKGROUND_BOTTOM}; color: #b9bcc1; padding: 24px; font-size: 13px;"
)
_LOADING_STYLE = (
    f"background: {scene.BACKGROUND_BOTTOM}; color: #7d8087; padding: 24px; font-size: 13px;"
)
_BAR_STYLE = """
#avatarViewerBar { background: #18191b; border-top: 1px solid #26282b; }
#avatarViewerBar QToolButton { padding: 3px 6px; color: #b9bbbf; border-radius: 3px; }
#avatarViewerBar QToolButton:hover { background: #2a2c30; border-color: #35383c; }
#avatarViewerBar QToolButton:checked { background: #2f3338; border-color: #4a5f78;
    color: #e6e7e9; }
#avatarViewerBar QToolButton:disabled { color: #55575b; }
#avatarViewerBar QToolButton::menu-indicator { image: none; width: 0; }
#avatarViewerBar QToolButton[popupMode="1"] { padding-right: 14px; }
#avatarViewerBar QToolButton::menu-button { border: none; width: 12px; }
#avatarViewerBar QFrame[class="separator"] { background: #2c2e31; }
"""


@dataclasses.dataclass(frozen=True, slots=True)
class _HowToShow:
    """How an avatar is to be shown: whose remembered up axis applies (the asset's SHA-256),
    in which mode and lighting, from which view."""

    asset_key: str | None
    mode: RenderMode
    lighting: LightingPreset
    view: ViewName


class _FrameRelay(QObject):
    # Emitted on the full-frame renderer's thread; Qt queues it into the GUI thread.
    frame = Signal(int, object)
    failed = Signal()


class AvatarViewer(QWidget):
    """Shows one avatar in 3D, or a message in its place, with a bar of controls under it.

    Owns a ``pyvistaqt.QtInteractor`` with ``auto_update=False``: nothing re-renders on a
    timer; every change schedules one paint. ``closeEvent`` closes the interactor, its render
    window and the full-frame renderer (its process).

    *settings* keeps the up axis chosen per asset (default: the application's ``QSettings``).
    *proxy_above*, *proxy_triangles* and *proxy_texture_size* say when and how a proxy is built
    for an avatar given without one: above how many triangles and to about how many, and above
    which texture size squared (in pixels) and to which size its textures are halved (see
    :func:`reviewer.render.proxy.prepare_for_display`). With *warm_up*
    the viewer pays VTK's one-time costs (shader compilation; starting the full-frame render
    process, which imports pyvista and sets VTK up in the background) as soon as the event
    loop runs, instead of when the first avatar arrives.
    """

    turntable_changed = Signal(bool)
    up_axis_changed = Signal(str)
    full_frame_shown = Signal()
    """A frame with the full mesh (not the proxy) is on screen."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        settings: QSettings | None = None,
        proxy_above: int | None = None,
        proxy_triangles: int | None = None,
        proxy_texture_size: int | None = None,
        warm_up: bool = True,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._proxy_options: dict[str, int] = {}
        if proxy_above is not None:
            self._proxy_options["proxy_above"] = proxy_above
        if proxy_triangles is not None:
            self._proxy_options["proxy_triangles"] = proxy_triangles
        if proxy_texture_size is not None:
            self._proxy_options["texture_size"] = proxy_texture_size

        self._interactor = QtInteractor(self, auto_update=False)
        # A file dropped on a bare QtInteractor is read and shown with pyvista.read, skipping
        # every check in reviewer.assets: nothing reaches this view except through the caller.
        self._interactor.setAcceptDrops(False)
        self._silence_default_keys()
        self._render_observer = self._render_once_per_paint()
        self._scale_mouse_positions()
        scene.prepare_plotter(self._interactor)

        self._message = QLabel(self)
        self._message.setObjectName("avatarViewerMessage")
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._message.setStyleSheet(_MESSAGE_STYLE)

        # The full-detail frame of a big avatar, laid over the live (proxy) view at rest.
        self._overlay = QLabel(self._interactor)
        self._overlay.setObjectName("avatarViewerFullFrame")
        self._overlay.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._overlay.setScaledContents(False)
        self._overlay.hide()

        self._stack = QStackedLayout()
        self._stack.setContentsMargins(0, 0, 0, 0)
        self._stack.addWidget(self._interactor)
        self._stack.addWidget(self._message)
        self._stack.setCurrentWidget(self._interactor)

        self._bar = self._build_bar()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(self._stack, 1)
        layout.addWidget(self._bar)

        self._display: DisplayAvatar | None = None
        self._handle: SceneHandle | None = None
        self._asset_key: str | None = None
        self._closed = False
        self._interacting = False
        self._token = 0  # bumped whenever the camera or the look changes
        self._awaiting_full_frame = False
        self._full_frames: FullFrameRenderer | FrameProcess | None = None
        self._relay = _FrameRelay(self)
        self._relay.frame.connect(self._on_full_frame)
        self._relay.failed.connect(self._on_full_frames_failed)
        self._preparing: Any = None  # a LatestOnlyRunner, made when first needed
        # A big avatar whose full frame is being drawn while its proxy is built: (avatar,
        # camera, token). Its frame may arrive before there is a live scene to lay it over.
        self._early: tuple[Avatar, CameraState, int] | None = None
        self._early_shown = False  # that frame is on screen
        # The prepared avatar (and how to show it) waiting for its early frame: the live scene
        # is added under the frame once it is on screen (see _show_display).
        self._deferred_live: tuple[DisplayAvatar, _HowToShow] | None = None
        self._overlay_camera: CameraState | None = None  # where the laid-over frame was drawn
        # A heavy avatar shown without its proxy: (display, with_proxy's options) to build one
        # from once its first full frame is on screen.
        self._proxy_wanted: tuple[DisplayAvatar, dict[str, Any]] | None = None
        self.full_frame_shown.connect(self._build_wanted_proxy)

        self._rest_timer = QTimer(self)
        self._rest_timer.setSingleShot(True)
        self._rest_timer.timeout.connect(self._come_to_rest)
        self._turntable_timer = QTimer(self)
        self._turntable_timer.setInterval(_TURNTABLE_TICK_MS)
        self._turntable_timer.timeout.connect(self._on_turntable_tick)
        self._turntable_clock = QElapsedTimer()
        self._update_bar()
        self._interactor.installEventFilter(self)
        if warm_up:
            QTimer.singleShot(0, self.warm_up)

    # -- what is shown ---------------------------------------------------------------------------
    @property
    def avatar(self) -> Avatar | None:
        """The avatar on display (stood on its current up axis), or None."""
        return None if self._handle is None else self._handle.avatar

    @property
    def display(self) -> DisplayAvatar | None:
        """The avatar on display with its proxy, or None."""
        return self._display

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

    @property
    def mode(self) -> RenderMode:
        return "textured" if self._handle is None else self._handle.mode

    @property
    def lighting(self) -> LightingPreset:
        return "studio" if self._handle is None else self._handle.lighting

    @property
    def up_axis(self) -> UpAxis | None:
        return None if self._handle is None else self._handle.avatar.up_axis

    @property
    def turntable_running(self) -> bool:
        return self._turntable_timer.isActive()

    @property
    def showing_proxy(self) -> bool:
        """True while the live view draws the proxy and no full-detail frame covers it."""
        return (
            self._handle is not None
            and self._handle.detail == "proxy"
            and not self._overlay.isVisible()
        )

    @property
    def showing_full_detail(self) -> bool:
        """True when what is on screen is the full mesh (drawn live or laid over the view)."""
        if self._handle is None:
            return False
        return self._handle.detail == "full" or self._overlay.isVisible()

    def show_avatar(
        self,
        avatar: Avatar | DisplayAvatar,
        *,
        asset_key: str | None = None,
        mode: RenderMode | None = None,
        lighting: LightingPreset | None = None,
        view: ViewName = "front",
    ) -> None:
        """Show *avatar*, standing, framed from the front (or *view*).

        Pass a :class:`~reviewer.render.proxy.DisplayAvatar` made on the loading thread with
        :func:`~reviewer.render.proxy.prepare_for_display`; a plain ``Avatar`` that needs a
        proxy (big mesh or big texture) is prepared on a worker thread first (meanwhile the
        view says so). *asset_key*, the asset's
        SHA-256, recalls the up axis chosen for it before. *mode* and *lighting* default to
        what the viewer showed last.
        """
        if self._closed:
            return
        how = _HowToShow(asset_key, mode or self.mode, lighting or self.lighting, view)
        if not isinstance(avatar, DisplayAvatar):
            options = self._proxy_options
            above = options.get("proxy_above", PROXY_ABOVE_TRIANGLES)
            size = options.get("texture_size", PROXY_TEXTURE_SIZE)
            heavy = needs_proxy(avatar, proxy_above=above, texture_size=size)
            # Even without a proxy, VTK's copy of a big texture is made off the GUI thread.
            if heavy or has_big_texture(avatar):
                self._prepare_then_show(avatar, how, heavy=heavy)
                return
            avatar = prepare_for_display(avatar, **options)
        if self._preparing is not None:
            self._preparing.cancel()
        self._early = None
        self._deferred_live = None
        self._show_display(avatar, how)

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
        self._request_paint()

    # -- camera ----------------------------------------------------------------------------------
    def reset_camera(self) -> None:
        """Frame the whole figure from the front again."""
        self.set_view("front")

    def set_view(self, name: ViewName) -> None:
        """Look from "front", "back", "left", "right" or "three_quarter"."""
        if self._closed:
            return
        self.stop_turntable()
        self._camera_moves()
        bounds = None if self._handle is None else self._handle.bounds
        scene.set_view(self._interactor, name, bounds=bounds)
        self._request_paint()
        self._come_to_rest()

    def view_front(self) -> None:
        self.set_view("front")

    def view_back(self) -> None:
        self.set_view("back")

    def view_left(self) -> None:
        self.set_view("left")

    def view_right(self) -> None:
        self.set_view("right")

    def view_three_quarter(self) -> None:
        self.set_view("three_quarter")

    def toggle_turntable(self) -> None:
        """Start or stop turning the camera slowly around the figure."""
        if self.turntable_running:
            self.stop_turntable()
        else:
            self.start_turntable()

    def start_turntable(self) -> None:
        if self._handle is None or self._closed or self.turntable_running:
            return
        self._camera_moves()
        self._turntable_clock.start()
        self._turntable_timer.start()
        self._update_bar()
        self.turntable_changed.emit(True)

    def stop_turntable(self) -> None:
        """Stop the turntable (also done by any mouse press or wheel step on the view)."""
        if self._halt_turntable():
            self._come_to_rest()

    def _halt_turntable(self) -> bool:
        if not self.turntable_running:
            return False
        self._turntable_timer.stop()
        self._update_bar()
        self.turntable_changed.emit(False)
        return True

    # -- look ------------------------------------------------------------------------------------
    def set_mode(self, mode: RenderMode) -> None:
        """Show the figure "textured", "solid" (clay) or as a "wireframe"."""
        if self._handle is None or self._closed:
            return
        scene.set_mode(self._handle, mode)
        self._update_bar()
        self._look_changed()

    def cycle_mode(self) -> None:
        """Textured, then solid, then wireframe, then textured again."""
        self.set_mode(_next(scene.RENDER_MODES, self.mode))  # type: ignore[arg-type]

    def set_lighting(self, preset: LightingPreset) -> None:
        """Light the figure "studio" (three-point), "soft" or "rim"."""
        if self._closed:
            return
        scene.set_lighting(self._interactor, preset)
        if self._handle is not None:
            self._handle.lighting = preset
        self._update_bar()
        self._look_changed()

    def cycle_lighting(self) -> None:
        """Studio, then soft, then rim, then studio again."""
        self.set_lighting(_next(scene.LIGHTING_PRESETS, self.lighting))  # type: ignore[arg-type]

    def set_up_axis(self, axis: UpAxis) -> None:
        """Stand the figure on another axis of its file ("y", "z", "x", "-y", "-z", "-x").

        The choice is remembered for the asset (see *asset_key* of :meth:`show_avatar`).
        """
        if self._handle is None or self._closed:
            return
        avatar = self._handle.avatar.with_up_axis(axis)
        if self._display is not None:
            self._display = dataclasses.replace(self._display, avatar=avatar)
        scene.set_upright(self._handle, avatar)
        if self._asset_key is not None:
            self._settings_store().setValue(_UP_AXIS_SETTING + self._asset_key, axis)
        self._update_bar()
        self.up_axis_changed.emit(axis)
        self.set_view("front")

    def cycle_up_axis(self) -> None:
        """Try the next up axis: Y, Z, X, -Y, -Z, -X."""
        if self._handle is not None:
            self.set_up_axis(_next(UP_AXES, self._handle.avatar.up_axis))  # type: ignore[arg-type]

    # -- images ----------------------------------------------------------------------------------
    def grab_image(self) -> np.ndarray:
        """The 3D view at full detail as an (H, W, 3) uint8 array in device pixels."""
        if self._closed:
            raise RuntimeError("the avatar viewer is closed")
        self._set_motion_resolution(False)  # the next camera move reduces it again
        if self._handle is not None and self._handle.has_proxy:
            renderer = self._full_frame_renderer()
            if renderer is not None:
                try:
                    return renderer.render_now(self._frame_request())
                except RuntimeError:
                    if renderer.failure is None:
                        raise
                    # The renderer died meanwhile: draw the full mesh on screen instead.
            scene.set_detail(self._handle, "full")
        image = self._interactor.grabFramebuffer()  # paints now, in device pixels
        return _qimage_to_array(image)

    def screenshot(self, path: Path) -> None:
        """Save the 3D view at full detail as an image file (format from the suffix, e.g. .png)."""
        from PIL import Image

        Image.fromarray(self.grab_image()).save(path)

    def save_screenshot(self) -> Path | None:
        """Ask where to save the view as a PNG, and save it there."""
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the 3D view as PNG", "avatar.png", "PNG image (*.png)"
        )
        if not name:
            return None
        path = Path(name) if name.lower().endswith(".png") else Path(name + ".png")
        self.screenshot(path)
        return path

    def pick(self, point: QPoint) -> tuple[float, float, float] | None:
        """The point of the figure under *point* (widget coordinates, as in a mouse event),
        in scene coordinates, or None. Accounts for the device pixel ratio like mouse events."""
        from vtkmodules.vtkRenderingCore import vtkCellPicker

        if self._handle is None or self._closed:
            return None
        scale = self._interactor.devicePixelRatioF()
        # 1, 1 unless the camera is moving or the live view is hidden (then drawn smaller):
        # the picker casts a ray, so fractions of the smaller window's pixels keep it exact.
        scale_x, scale_y = self._render_scale()
        x = point.x() * scale * scale_x
        y = (self._interactor.height() - point.y() - 1) * scale * scale_y
        picker = vtkCellPicker()
        picker.SetTolerance(0.0005)
        if not picker.Pick(x, y, 0, self._interactor.renderer):
            return None
        picked = picker.GetActor()
        figure = (*self._handle.part_actors, *self._handle.proxy_actors)
        if not any(picked is actor for actor in figure):
            return None  # the floor
        return tuple(picker.GetPickPosition())  # type: ignore[return-value]

    def warm_up(self) -> None:
        """Draw a tiny textured figure once, here and in the full-frame renderer, and forget
        it: compiles the shaders the first real avatar needs (a few hundred milliseconds on
        software OpenGL) before anyone waits for it. Does nothing once an avatar is shown."""
        if self._closed or self._handle is not None:
            return
        sample = _warm_up_sample()
        handle = scene.show_avatar(self._interactor, sample)
        self._interactor.grabFramebuffer()
        scene.clear_scene(self._interactor)
        del handle
        renderer = self._full_frame_renderer()
        if renderer is not None:
            renderer.warm_up(sample)

    # -- lifetime --------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.close_interactor()
        super().closeEvent(event)

    def close_interactor(self) -> None:
        """Close the interactor, its render window and the full-frame renderer; safe twice."""
        if self._closed:
            return
        self._closed = True
        self._turntable_timer.stop()
        self._rest_timer.stop()
        if self._preparing is not None:
            self._preparing.cancel()
        if self._full_frames is not None:
            self._full_frames.close()
            self._full_frames = None
        self._handle = None
        self._display = None
        interactor = getattr(self._interactor, "iren", None)
        if interactor is not None and self._render_observer is not None:
            interactor.interactor.RemoveObserver(self._render_observer)
        self._interactor.removeEventFilter(self)
        self._interactor.close()

    # -- Qt events -------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._interactor and getattr(self, "_handle", None) is not None:
            kind = event.type()
            if kind == QEvent.Type.MouseButtonPress:
                self._halt_turntable()
                self._interacting = True
                self._camera_moves()
            elif kind == QEvent.Type.MouseButtonRelease:
                self._interacting = False
                self._rest_timer.start(_REST_DELAY_MS)
            elif kind == QEvent.Type.Wheel:
                self._halt_turntable()
                self._camera_moves()
                self._rest_timer.start(_REST_DELAY_MS)
            elif kind == QEvent.Type.Resize:
                self._overlay.setGeometry(self._interactor.rect())
                self._camera_moves()
                self._rest_timer.start(_REST_DELAY_MS)
        return False

    # -- internals: showing ----------------------------------------------------------------------
    def _show_display(self, display: DisplayAvatar, how: _HowToShow) -> None:
        self.stop_turntable()
        self._proxy_wanted = None
        early = self._early
        if early is not None and early[0] is display.avatar and early[2] == self._token:
            if not self._early_shown:
                # Its full frame is still being drawn in the render process: the live scene
                # (the proxy) goes under it once it is on screen. Uploading and drawing the
                # proxy now would compete with that process for the two cores and hold the
                # GUI thread up to twice as long.
                self._deferred_live = (display, how)
                return
            self._early = None
            # Its full frame is on screen already: add the live scene under it.
            self._show_live_scene(display, how)
            apply_camera_state(self._interactor, early[1])
            if self._full_frames is not None and self._full_frames.failure is None:
                if self._overlay.isVisible():
                    # Hidden under the frame: drawn small and not shown, a moment later
                    # (input is handled between the two pieces of work).
                    self._set_motion_resolution(True, covered=True)
                    QTimer.singleShot(_LIVE_AFTER_FRAME_MS, self._draw_hidden)
                    return
                self._set_motion_resolution(True)  # see _come_to_rest
            self._request_paint()
            return
        self._early = None
        display = dataclasses.replace(
            display, avatar=self._remembered_up(display.avatar, how.asset_key)
        )
        self._token += 1
        self._overlay.hide()
        self._show_live_scene(display, how)
        if display.proxy is not None:
            renderer = self._full_frame_renderer()
            if renderer is not None:
                renderer.show(display)
        elif self._full_frames is not None:
            self._full_frames.show(None)  # let the last big avatar go
        self._awaiting_full_frame = True
        self._request_paint()
        self._come_to_rest()

    def _remembered_up(self, avatar: Avatar, asset_key: str | None) -> Avatar:
        stored = None
        if asset_key is not None:
            stored = self._settings_store().value(_UP_AXIS_SETTING + asset_key)
        if stored in UP_AXES and stored != avatar.up_axis:
            return avatar.with_up_axis(stored)
        return avatar

    def _show_live_scene(self, display: DisplayAvatar, how: _HowToShow) -> None:
        self._asset_key = how.asset_key
        self._display = display
        self._handle = scene.show_avatar(
            self._interactor,
            display,
            mode=how.mode,
            lighting=how.lighting,
            view=how.view,
            detail="proxy" if display.proxy is not None else "full",
        )
        self._stack.setCurrentWidget(self._interactor)
        self._update_bar()

    def _prepare_then_show(self, avatar: Avatar, how: _HowToShow, *, heavy: bool) -> None:
        """Build the proxy (and VTK's copy of big textures) on a worker thread. For a heavy
        avatar (one that gets a proxy), meanwhile, the full-frame renderer starts drawing it at
        once: the proxy is only needed once the camera moves, and the full frame is what the
        person waits for."""
        from reviewer.ui.workers import LatestOnlyRunner

        if self._preparing is None:
            self._preparing = LatestOnlyRunner(self)
        if self.message is None:
            self.show_loading("Preparing the avatar…")
        else:
            self._drop_scene()  # keep the caller's "Loading…" note up
        avatar = self._remembered_up(avatar, how.asset_key)
        renderer = self._full_frame_renderer() if heavy else None
        if renderer is not None:
            self._token += 1
            scene.set_view(self._interactor, how.view, bounds=avatar.upright_bounds)
            camera = camera_state(self._interactor)
            self._early = (avatar, camera, self._token)
            self._early_shown = False
            self._awaiting_full_frame = True
            renderer.show(DisplayAvatar(avatar))
            renderer.request(
                FrameRequest(
                    token=self._token,
                    avatar=avatar,
                    size=self._device_size(),
                    camera=camera,
                    mode=how.mode,
                    lighting=how.lighting,
                )
            )
        options = dict(self._proxy_options)
        if heavy and renderer is None:
            # Drawn on screen: the full avatar as soon as its textures are ready, the proxy
            # after the first frame (building it beside the first upload would only slow that
            # down). A small mesh with a big texture keeps its mesh in the proxy.
            wanted = {
                "proxy_triangles": options.get("proxy_triangles", PROXY_TRIANGLES),
                "decimate": avatar.triangles > options.get("proxy_above", PROXY_ABOVE_TRIANGLES),
            }
            if "texture_size" in options:
                wanted["texture_size"] = options["texture_size"]
            self._preparing.start(
                lambda: prepare_for_display(avatar, proxy_above=_NO_PROXY, texture_size=_NO_PROXY),
                lambda display: self._show_then_build_proxy(display, how, wanted=wanted),
                lambda reason: self.show_message(f"Cannot show the avatar: {reason}"),
            )
            return
        self._preparing.start(
            lambda: prepare_for_display(avatar, **options),
            lambda display: self._show_display(display, how),
            lambda reason: self.show_message(f"Cannot show the avatar: {reason}"),
        )

    def _show_then_build_proxy(
        self, display: DisplayAvatar, how: _HowToShow, *, wanted: dict[str, Any]
    ) -> None:
        self._show_display(display, how)
        self._proxy_wanted = (display, wanted)

    def _build_wanted_proxy(self) -> None:
        wanted, self._proxy_wanted = self._proxy_wanted, None
        if wanted is None or self._closed or self._preparing is None:
            return
        display, options = wanted
        self._preparing.start(
            lambda: with_proxy(display, **options),
            self._attach_proxy,
            # The runner reports the error; without a proxy the full mesh is drawn in motion.
            lambda _reason: None,
        )

    def _attach_proxy(self, display: DisplayAvatar) -> None:
        """Add a proxy built after the avatar was shown (see :meth:`_build_wanted_proxy`)."""
        handle, shown = self._handle, self._display
        if (
            handle is None
            or shown is None
            or self._closed
            or display.proxy is None
            or shown.avatar.parts is not display.avatar.parts
        ):
            return
        scene.add_proxy(handle, display)
        self._display = dataclasses.replace(
            shown,
            proxy=display.proxy,
            proxy_seconds=display.proxy_seconds,
            texture_data=display.texture_data,
        )
        if self._interacting or self.turntable_running:
            scene.set_detail(handle, "proxy")
            self._request_paint()

    def _show_text(self, text: str, style: str) -> None:
        self._drop_scene()
        self._message.setStyleSheet(style)
        self._message.setText(text)
        self._stack.setCurrentWidget(self._message)

    def _drop_scene(self) -> None:
        self.stop_turntable()
        self._rest_timer.stop()
        self._token += 1
        self._early = None
        self._deferred_live = None
        self._proxy_wanted = None
        self._handle = None
        self._display = None
        self._overlay.hide()
        self._overlay.clear()
        if self._preparing is not None:
            self._preparing.cancel()
        if self._full_frames is not None:
            self._full_frames.show(None)
        if not self._closed:
            scene.clear_scene(self._interactor)
            self._set_motion_resolution(False)
        self._update_bar()

    # -- internals: motion and rest --------------------------------------------------------------
    def _camera_moves(self) -> None:
        """The camera is about to move: draw the proxy live at motion resolution, drop any
        full frame."""
        if self._deferred_live is not None:
            self._show_deferred_live()  # the proxy is ready: it moves, not an empty view
        self._rest_timer.stop()
        self._token += 1
        self._overlay.hide()
        if self._handle is not None:
            self._set_motion_resolution(True)
            if self._handle.has_proxy:
                scene.set_detail(self._handle, "proxy")

    def _look_changed(self) -> None:
        self._camera_moves()
        self._request_paint()
        self._come_to_rest()

    def _come_to_rest(self) -> None:
        """The camera stopped: show the full mesh (off screen, or on screen as a fallback)."""
        handle = self._handle
        if self._closed or self._interacting or self.turntable_running:
            return
        renderer = None
        if handle is not None and handle.has_proxy:
            renderer = self._full_frame_renderer()
        # Under a laid-over full frame the live proxy stays at motion resolution: it is hidden
        # at rest, and a full-resolution frame of it would cost the GUI thread 50-100 ms.
        self._set_motion_resolution(renderer is not None)
        if handle is None:
            return
        self._awaiting_full_frame = True
        if not handle.has_proxy:
            self._request_paint()
            return
        if renderer is not None:
            renderer.request(self._frame_request())
            return
        scene.set_detail(handle, "full")
        self._request_paint()

    def _frame_request(self) -> FrameRequest:
        assert self._handle is not None
        return FrameRequest(
            token=self._token,
            avatar=self._handle.avatar,
            size=self._device_size(),
            camera=camera_state(self._interactor),
            mode=self._handle.mode,
            lighting=self._handle.lighting,
        )

    def _full_frame_renderer(self) -> FullFrameRenderer | FrameProcess | None:
        """The off-screen full-detail renderer, started when first needed; None when it is
        turned off or has failed (then the full mesh is drawn on screen at rest).

        By default it is a render *process* (REVIEWER_FULL_FRAME_PROCESS=0 turns it off).
        REVIEWER_FULL_FRAME_THREAD=1 asks for the older render thread instead, which beside
        Qt's GL context corrupted the heap in 2 of 3 full test runs on Mesa llvmpipe.
        """
        if self._full_frames is not None and self._full_frames.failure is not None:
            return None
        if self._full_frames is None and not self._closed:
            if os.environ.get("REVIEWER_FULL_FRAME_PROCESS", "1") != "0":
                self._full_frames = FrameProcess(
                    self._relay.frame.emit, on_failure=self._relay.failed.emit
                )
            elif os.environ.get("REVIEWER_FULL_FRAME_THREAD") == "1":
                self._full_frames = FullFrameRenderer(self._relay.frame.emit)
            else:
                return None
            if self._full_frames.failure is not None:  # it could not even start
                return None
        return self._full_frames

    def _on_full_frames_failed(self) -> None:
        """The render process died: what it was drawing will not come; draw it on screen."""
        if self._closed:
            return
        if self._deferred_live is not None:
            # Prepared, and waiting for a frame that will not come: show it on screen now.
            deferred, self._deferred_live = self._deferred_live, None
            self._early = None
            self._show_display(*deferred)
            return
        if self._early is not None:
            # The avatar is still being prepared: shown when ready, on screen (the renderer's
            # failure is seen then).
            self._early = None
            return
        self._camera_moves()
        self._come_to_rest()

    def _on_full_frame(self, token: int, image: object) -> None:
        early = self._early is not None and self._early[2] == token
        if token != self._token or (self._handle is None and not early) or self._closed:
            return  # the camera or the look changed since: a newer frame will follow
        self._stack.setCurrentWidget(self._interactor)
        pixels = np.ascontiguousarray(image)
        height, width = pixels.shape[:2]
        qimage = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        pixmap = QPixmap.fromImage(qimage.copy())
        pixmap.setDevicePixelRatio(self._interactor.devicePixelRatioF())
        self._overlay.setGeometry(self._interactor.rect())
        self._overlay.setPixmap(pixmap)
        self._overlay_camera = camera_state(self._interactor)
        self._overlay.show()
        self._overlay.raise_()
        if early:
            self._early_shown = True
            if self._deferred_live is not None:
                # A moment later, from a timer: the frame is on screen first, and input is
                # handled between the two pieces of work (a zero timer would run in the same
                # batch of posted events as this one).
                QTimer.singleShot(_LIVE_AFTER_FRAME_MS, self._show_deferred_live)
        if self._awaiting_full_frame:
            self._awaiting_full_frame = False
            self.full_frame_shown.emit()

    def _tell_full_frame_shown(self, token: int) -> None:
        if token == self._token and not self._closed:
            self.full_frame_shown.emit()

    def _show_deferred_live(self) -> None:
        deferred, self._deferred_live = self._deferred_live, None
        if deferred is not None:
            self._early_shown = True
            self._show_display(*deferred)

    def _on_turntable_tick(self) -> None:
        if self._handle is None:
            self._turntable_timer.stop()
            return
        elapsed = min(self._turntable_clock.restart(), 100)  # no leap after a stall
        self._set_motion_resolution(True)  # again, if a screenshot needed full resolution
        self._interactor.renderer.GetActiveCamera().Azimuth(
            -TURNTABLE_DEGREES_PER_SECOND * elapsed / 1000.0
        )
        self._interactor.renderer.ResetCameraClippingRange()
        self._request_paint()

    # -- internals: resolution ------------------------------------------------------------------
    def _device_size(self) -> tuple[int, int]:
        """The view's full size in device pixels (what pyvistaqt gives VTK on resize)."""
        scale = self._interactor.devicePixelRatioF()
        return (
            max(1, round(self._interactor.width() * scale)),
            max(1, round(self._interactor.height() * scale)),
        )

    def _set_motion_resolution(self, moving: bool, *, covered: bool = False) -> None:
        """Draw at reduced resolution while the camera moves, at full resolution at rest, and
        (*covered*) at a token resolution while a full-detail frame hides the live view.

        The render window gets the smaller size; pyvistaqt's paint scales VTK's frame up to the
        widget (a linear blit), and :meth:`_scale_mouse_positions` keeps the mouse in step.
        """
        if self._closed:
            return
        width, height = self._device_size()
        factor = 1.0
        pixels = COVERED_PIXELS if covered else MOTION_PIXELS
        if (moving or covered) and width * height > pixels:
            factor = (pixels / (width * height)) ** 0.5
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        window = self._interactor.render_window
        if tuple(window.GetSize()) == size:
            return
        self._interactor.iren.interactor.UpdateSize(*size)
        # Text (the height label) is sized in points: fewer dots per inch keep it as large on
        # screen once the frame is scaled up.
        window.SetDPI(max(1, round(72 * self._interactor.devicePixelRatioF() * factor)))
        if not covered:
            self._request_paint()

    def _draw_hidden(self) -> None:
        """Draw the live scene once without showing it, while a full-detail frame covers it.

        That uploads the proxy's mesh and textures, so the first move does not wait for them,
        and skips Qt's repaint of the window, which on software OpenGL costs tens of
        milliseconds whatever VTK draws. Falls back to an ordinary paint where that is not
        possible (the widget not realised yet, or pyvistaqt without its paint flag).
        """
        widget = self._interactor
        if self._closed or self._handle is None or not self._overlay.isVisible():
            return  # gone, or the camera moved meanwhile: an ordinary paint follows
        window = widget.render_window
        if not (
            hasattr(widget, "_in_paint") and widget.isValid() and window.GetReadyForRendering()
        ):
            self._request_paint()
            return
        widget.makeCurrent()
        state = window.GetState()
        state.Reset()  # as pyvistaqt's paint does: Qt touched GL since VTK's last render
        state.Push()
        # pyvistaqt schedules a Qt paint after every VTK render outside its own paint.
        widget._in_paint = True
        try:
            window.Render()
        finally:
            widget._in_paint = False
            state.Pop()
            widget.doneCurrent()

    def _render_scale(self) -> tuple[float, float]:
        """Render-window pixels per device pixel of the view (1, 1 at rest)."""
        width, height = self._device_size()
        window_width, window_height = self._interactor.render_window.GetSize()
        return window_width / width, window_height / height

    def _scale_mouse_positions(self) -> None:
        """Scale mouse positions to the render window while it is drawn smaller than the view.

        pyvistaqt hands VTK positions in the view's device pixels; VTK's interactor style turns
        them into rotation, panning and zoom relative to the render window's size. An observer
        that runs before the style rescales the event's position (the last position was
        rescaled when it was the current one). It is a *passive* observer: while a button is
        down the style grabs the interactor's focus, and then only passive observers (called
        first) and the style see mouse events.
        """
        interactor = getattr(self._interactor, "iren", None)
        if interactor is None:
            return
        vtk_interactor = interactor.interactor

        def rescale(_caller: object, _event: str) -> None:
            if self._closed:
                return
            scale_x, scale_y = self._render_scale()
            if scale_x == 1.0 and scale_y == 1.0:
                return
            x, y = vtk_interactor.GetEventPosition()
            last = vtk_interactor.GetLastEventPosition()
            vtk_interactor.SetEventPosition(round(x * scale_x), round(y * scale_y))
            vtk_interactor.SetLastEventPosition(*last)

        for event in _MOUSE_EVENTS:
            tag = vtk_interactor.AddObserver(event, rescale)
            vtk_interactor.GetCommand(tag).SetPassiveObserver(True)

    # -- internals: rendering --------------------------------------------------------------------
    def _request_paint(self) -> None:
        if not self._closed:
            self._interactor.update()

    def _render_once_per_paint(self) -> int | None:
        """Make VTK's render requests schedule a Qt paint instead of rendering at once.

        pyvistaqt's widget renders when VTK asks and again when Qt paints (its paintGL always
        renders), so each frame of an orbit would be drawn twice. With rendering disabled on
        the interactor, VTK's RenderEvent still fires: inside a paint it renders (once),
        outside it schedules the paint, and Qt folds several requests into one frame.
        """
        interactor = getattr(self._interactor, "iren", None)
        if interactor is None:
            return None
        vtk_interactor = interactor.interactor
        vtk_interactor.EnableRenderOff()
        widget = self._interactor
        renderer = self._interactor.renderer

        def on_render(_caller: object, _event: str) -> None:
            # pyvistaqt's widget sets _in_paint around paintGL; if it ever stops doing so,
            # rendering at once is the safe side (the old behaviour, two renders a frame).
            if getattr(widget, "_in_paint", True):
                widget.render_window.Render()
            else:
                widget.update()

        def on_render_start(_caller: object, _event: str) -> None:
            # Someone moved the camera without telling us (a linked view in a comparison):
            # the laid-over full frame no longer matches, so the live proxy shows instead.
            overlay_camera = self._overlay_camera
            if (
                self._overlay.isVisible()
                and overlay_camera is not None
                and not _same_view(camera_state(self._interactor), overlay_camera)
            ):
                self._camera_moves()
                if not self._interacting:
                    self._rest_timer.start(_REST_DELAY_MS)

        def on_rendered(_caller: object, _event: str) -> None:
            handle = self._handle
            if (
                self._awaiting_full_frame
                and handle is not None
                and handle.detail == "full"
                and not self._closed
            ):
                self._awaiting_full_frame = False
                # Told from a timer, outside VTK's render; by then the camera may have moved
                # again (a press, a resize), and this frame is no longer what shows.
                token = self._token
                QTimer.singleShot(0, self, lambda: self._tell_full_frame_shown(token))

        renderer.AddObserver("StartEvent", on_render_start)
        renderer.AddObserver("EndEvent", on_rendered)
        return vtk_interactor.AddObserver("RenderEvent", on_render)

    def _silence_default_keys(self) -> None:
        for key in _PYVISTA_KEYS:
            self._interactor.clear_events_for_key(key, raise_on_missing=False)
        interactor = getattr(self._interactor, "iren", None)
        if interactor is not None:
            # The interactor style listens for CharEvent to run VTK's own key bindings.
            interactor.interactor.RemoveObservers("CharEvent")

    def _settings_store(self) -> QSettings:
        return self._settings if self._settings is not None else QSettings()

    # -- internals: the bar of controls ----------------------------------------------------------
    def _build_bar(self) -> QWidget:
        bar = QWidget(self)
        bar.setObjectName("avatarViewerBar")
        bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        bar.setStyleSheet(_BAR_STYLE)
        row = QHBoxLayout(bar)
        row.setContentsMargins(6, 3, 6, 3)
        row.setSpacing(1)
        self._buttons: dict[str, QToolButton] = {}

        def button(name: str, text: str, tip: str, slot: Any, *, checkable: bool = False) -> None:
            made = QToolButton(bar)
            made.setObjectName(f"avatarViewer-{name}")
            made.setText(text)
            key = SHORTCUTS.get(name)
            made.setToolTip(f"{tip}  ({key})" if key else tip)
            made.setCheckable(checkable)
            made.setAutoRaise(True)
            made.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            made.clicked.connect(lambda _checked=False: slot())
            made.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            row.addWidget(made)
            self._buttons[name] = made

        # Front, back, sides and three-quarter in one menu, each with its key; a click on
        # the button itself frames the figure from the front again.
        self._view_menu = QMenu(bar)
        for name, text in VIEW_LABELS.items():
            pretty = "Three-quarter" if name == "three_quarter" else text
            action = QAction(f"{pretty} view\t{SHORTCUTS[name]}", self._view_menu)
            action.triggered.connect(lambda _checked=False, n=name: self.set_view(n))
            self._view_menu.addAction(action)
        self._view_menu.addSeparator()
        reset = QAction(f"Reset view\t{SHORTCUTS['reset']}", self._view_menu)
        reset.triggered.connect(lambda _checked=False: self.reset_camera())
        self._view_menu.addAction(reset)
        button(
            "reset",
            "View",
            "Reset the view; the arrow lists front, back, sides, ¾",
            self.reset_camera,
        )
        self._buttons["reset"].setMenu(self._view_menu)
        self._buttons["reset"].setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        button(
            "turntable",
            "Turntable",
            "Turn slowly around the figure",
            self.toggle_turntable,
            checkable=True,
        )
        row.addWidget(_separator(bar))
        self._mode_menu = self._choice_menu(
            bar,
            MODE_LABELS,
            self.set_mode,
        )
        button("mode", "Textured", "Display: textured, solid or wireframe", self.cycle_mode)
        self._buttons["mode"].setMenu(self._mode_menu)
        self._buttons["mode"].setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._lighting_menu = self._choice_menu(
            bar,
            LIGHTING_LABELS,
            self.set_lighting,
        )
        button(
            "lighting", "Studio", "Lighting: studio three-point, soft or rim", self.cycle_lighting
        )
        self._buttons["lighting"].setMenu(self._lighting_menu)
        self._buttons["lighting"].setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._up_menu = self._choice_menu(
            bar,
            {axis: f"{axis.upper()} is up" for axis in UP_AXES},
            self.set_up_axis,
        )
        button(
            "up_axis",
            "Up Y",
            "Which axis of the file points up (remembered per asset)",
            self.cycle_up_axis,
        )
        self._buttons["up_axis"].setMenu(self._up_menu)
        self._buttons["up_axis"].setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        # Each choice button is as wide as its widest label from the start, so the bar (and
        # the window or splitter pane holding the viewer) does not change width when an avatar
        # shows "Up Y" where there was "Up", or the mode changes from Solid to Textured.
        _hold_widest(self._buttons["mode"], [_mode_text(mode) for mode in MODE_LABELS])
        _hold_widest(
            self._buttons["lighting"], [_lighting_text(preset) for preset in LIGHTING_LABELS]
        )
        _hold_widest(self._buttons["up_axis"], [_up_text(axis) for axis in (None, *UP_AXES)])
        row.addStretch(1)
        button("screenshot", "PNG…", "Save the 3D view as a PNG image", self.save_screenshot)
        return bar

    def _choice_menu(self, parent: QWidget, labels: dict[str, str], choose: Any) -> QMenu:
        menu = QMenu(parent)
        group = QActionGroup(menu)
        group.setExclusive(True)
        for value, label in labels.items():
            action = QAction(label, menu)
            action.setCheckable(True)
            action.setData(value)
            action.triggered.connect(lambda _checked=False, v=value: choose(v))
            group.addAction(action)
            menu.addAction(action)
        return menu

    def _update_bar(self) -> None:
        shown = self._handle is not None and not self._closed
        for made in self._buttons.values():
            made.setEnabled(shown)
        self._buttons["turntable"].setChecked(self.turntable_running)
        self._buttons["mode"].setText(_mode_text(self.mode))
        self._buttons["lighting"].setText(_lighting_text(self.lighting))
        axis = self.up_axis
        self._buttons["up_axis"].setText(_up_text(axis))
        for menu, current in (
            (self._mode_menu, self.mode),
            (self._lighting_menu, self.lighting),
            (self._up_menu, axis),
        ):
            for action in menu.actions():
                action.setChecked(action.data() == current)


def _mode_text(mode: RenderMode) -> str:
    return f"{MODE_LABELS[mode]} ▾"


def _lighting_text(preset: LightingPreset) -> str:
    return f"{LIGHTING_LABELS[preset]} ▾"


def _up_text(axis: UpAxis | None) -> str:
    return f"Up {axis.upper()} ▾" if axis else "Up ▾"


def _hold_widest(button: QToolButton, texts: list[str]) -> None:
    """Give *button* the width its widest text needs, whichever it shows."""
    current = button.text()
    widest = 0
    for text in texts:
        button.setText(text)
        widest = max(widest, button.sizeHint().width())
    button.setText(current)
    button.setMinimumWidth(widest)


def _separator(parent: QWidget) -> QFrame:
    line = QFrame(parent)
    line.setProperty("class", "separator")
    line.setFixedSize(1, 16)
    return line


def _next(choices: tuple[str, ...], current: str | None) -> str:
    if current not in choices:
        return choices[0]
    return choices[(choices.index(current) + 1) % len(choices)]


def _warm_up_sample() -> DisplayAvatar:
    import pyvista as pv

    from reviewer.assets.meshes import Avatar

    ball = pv.Sphere(radius=0.3, theta_resolution=16, phi_resolution=12)
    ball.point_data["TextureCoordinates"] = (np.asarray(ball.points)[:, :2] + 0.5).astype(
        np.float32
    )
    ball.point_data.active_texture_coordinates_name = "TextureCoordinates"
    checker = (np.indices((8, 8)).sum(axis=0) % 2 * 160 + 40).astype(np.uint8)
    return prepare_for_display(Avatar.from_polydata(ball, texture=np.dstack([checker] * 3)))


def _same_view(a: CameraState, b: CameraState) -> bool:
    """The same camera, whatever clipping range each render computed."""
    return (
        np.allclose(a.position, b.position, rtol=0, atol=1e-9)
        and np.allclose(a.focal_point, b.focal_point, rtol=0, atol=1e-9)
        and np.allclose(a.up, b.up, rtol=0, atol=1e-9)
        and a.view_angle == b.view_angle
        and a.parallel_projection == b.parallel_projection
        and a.parallel_scale == b.parallel_scale
    )


_NO_PROXY = 1 << 62  # a proxy_above (and texture_size) no avatar reaches


def _qimage_to_array(image: QImage) -> np.ndarray:
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = rgb.width(), rgb.height()
    stride = rgb.bytesPerLine()
    buffer = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=stride * height)
    return buffer.reshape(height, stride)[:, : 3 * width].reshape(height, width, 3).copy()


__all__ = [
    "LIGHTING_LABELS",
    "MODE_LABELS",
    "SHORTCUTS",
    "TURNTABLE_DEGREES_PER_SECOND",
    "VIEW_LABELS",
    "AvatarViewer",
]
