"""Full-detail frames of a big avatar, rendered off screen on a thread of their own.

On software OpenGL one frame of a 4-million-triangle scan takes 0.3-1 s to draw, and the
upload before the first frame as long again. Drawn on the GUI thread, every stop of the camera
would freeze the application for that long. Instead the on-screen view only ever draws the
light proxy (:mod:`reviewer.render.proxy`), and this renderer draws the same scene with the
full mesh, at the same size and from the same camera, in its own off-screen render window on
its own thread; the viewer lays the finished image over the view until the camera moves again.
The scene is built by the same :func:`reviewer.render.scene.show_avatar`, so the two images
differ only in the figure's detail. VTK releases the GIL while it renders, so the GUI thread
keeps running meanwhile (measured: no gap over 60 ms while a 4 M frame renders).

Requests are latest-only: a request made while a frame renders replaces any that waited, and
every finished frame carries the token of its request so the caller can drop stale ones.
Qt-free: results are handed to a callback on the render thread.

Rendering on a second thread beside Qt's on-screen GL context corrupted the heap on Mesa
llvmpipe, so the viewer uses the same loop (:class:`FrameScene`) in a process of its own by
default: :class:`reviewer.render.frame_process.FrameProcess`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from reviewer.assets.meshes import Avatar
    from reviewer.render.proxy import DisplayAvatar
    from reviewer.render.scene import LightingPreset, RenderMode


@dataclass(frozen=True)
class CameraState:
    """Everything that places a VTK camera, copied out of one plotter into another."""

    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    up: tuple[float, float, float]
    view_angle: float
    clipping_range: tuple[float, float]
    parallel_projection: bool
    parallel_scale: float


def camera_state(plotter: Any) -> CameraState:
    camera = plotter.renderer.GetActiveCamera()
    return CameraState(
        position=tuple(camera.GetPosition()),
        focal_point=tuple(camera.GetFocalPoint()),
        up=tuple(camera.GetViewUp()),
        view_angle=camera.GetViewAngle(),
        clipping_range=tuple(camera.GetClippingRange()),
        parallel_projection=bool(camera.GetParallelProjection()),
        parallel_scale=camera.GetParallelScale(),
    )


def apply_camera_state(
    plotter: Any,
    state: CameraState,
    *,
    bounds: tuple[float, float, float, float, float, float] | None = None,
) -> None:
    camera = plotter.renderer.GetActiveCamera()
    camera.SetPosition(state.position)
    camera.SetFocalPoint(state.focal_point)
    camera.SetViewUp(state.up)
    camera.SetViewAngle(state.view_angle)
    camera.SetParallelProjection(state.parallel_projection)
    camera.SetParallelScale(state.parallel_scale)
    # The on-screen view computed its clipping range for the proxy, which may lie a hair
    # inside the full mesh: compute it again for what this renderer shows (from the figure's
    # *bounds* if known, see reviewer.render.scene.reset_clipping_range).
    if bounds is None:
        plotter.renderer.ResetCameraClippingRange()
    else:
        from reviewer.render import scene

        scene.reset_clipping_range(plotter, bounds)


@dataclass(frozen=True, eq=False)
class FrameRequest:
    """One full-detail frame: of ``avatar`` (the one shown, with its current up axis), in
    ``size`` device pixels (width, height), from ``camera``."""

    token: int
    avatar: Avatar
    size: tuple[int, int]
    camera: CameraState
    mode: RenderMode
    lighting: LightingPreset


FrameCallback = Callable[[int, np.ndarray], None]


class FullFrameRenderer:
    """Renders full-detail frames of one avatar off screen, on a thread it owns.

    ``on_frame(token, image)`` is called on that thread with each finished frame, an
    (H, W, 3) uint8 array, top row first. Call :meth:`close` when done: it stops the thread
    and frees the render window.
    """

    def __init__(self, on_frame: FrameCallback, *, floor: bool = True, show_height: bool = True):
        self._on_frame = on_frame
        self._floor = floor
        self._show_height = show_height
        self._condition = threading.Condition()
        self._display: DisplayAvatar | None = None
        self._display_changed = False
        self._request: FrameRequest | None = None
        self._waiters: dict[int, tuple[threading.Event, list[np.ndarray]]] = {}
        self._closing = False
        self._warm_up: DisplayAvatar | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="full-frame-renderer", daemon=True)
        self._thread.start()

    @property
    def failure(self) -> BaseException | None:
        """What stopped the render thread, if something did (then no frame will come)."""
        return self._failure

    def show(self, display: DisplayAvatar | None) -> None:
        """Render *display* from now on (None: nothing). Pending requests are dropped."""
        with self._condition:
            self._display = display
            self._display_changed = True
            self._request = None
            self._condition.notify()

    def request(self, request: FrameRequest) -> None:
        """Render *request* when the thread is free; replaces any request still waiting."""
        with self._condition:
            self._request = request
            self._condition.notify()

    def render_now(self, request: FrameRequest, timeout: float = 60.0) -> np.ndarray:
        """Render *request* and wait for the image (for a screenshot)."""
        done = threading.Event()
        box: list[np.ndarray] = []
        with self._condition:
            self._waiters[request.token] = (done, box)
            self._request = request
            self._condition.notify()
        if not done.wait(timeout) or not box:
            with self._condition:
                self._waiters.pop(request.token, None)
            raise RuntimeError(f"no full-detail frame within {timeout:.0f} s ({self._failure})")
        return box[0]

    def warm_up(self, sample: DisplayAvatar) -> None:
        """Draw *sample* once, small, and drop it: compiles the shaders (and creates the
        window) before the first real frame is wanted. Does not call ``on_frame``."""
        with self._condition:
            self._warm_up = sample
            self._condition.notify()

    def close(self) -> None:
        """Stop the thread (after the frame it is drawing, if any) and free its window."""
        with self._condition:
            self._closing = True
            self._condition.notify()
        self._thread.join()

    # -- the render thread -----------------------------------------------------------------
    def _run(self) -> None:
        frames: FrameScene | None = None
        try:
            frames = FrameScene(floor=self._floor, show_height=self._show_height)
            while True:
                with self._condition:
                    while not (
                        self._closing or self._display_changed or self._request or self._warm_up
                    ):
                        self._condition.wait()
                    if self._closing:
                        break
                    sample, self._warm_up = self._warm_up, None
                    display, changed = self._display, self._display_changed
                    request, self._request = self._request, None
                    self._display_changed = False
                if sample is not None:
                    frames.warm_up(_own_copy(sample))
                if changed:
                    if display is None:
                        frames.show(None)
                    else:
                        frames.show(_own_copy(display), avatar=display.avatar)
                if request is None:
                    continue
                image = frames.render(request)
                with self._condition:
                    waiter = self._waiters.pop(request.token, None)
                if image is None:
                    if waiter is not None:
                        waiter[0].set()
                    continue
                if waiter is not None:
                    waiter[1].append(image)
                    waiter[0].set()
                else:
                    self._on_frame(request.token, image)
        except BaseException as error:  # reported through .failure; the viewer falls back
            self._failure = error
        finally:
            with self._condition:
                for done, _box in self._waiters.values():
                    done.set()
                self._waiters.clear()
            if frames is not None:
                frames.close()


class FrameScene:
    """The render side of a full-frame renderer: one off-screen view and the avatar it
    shows. Used on :class:`FullFrameRenderer`'s thread and in the render process of
    :class:`reviewer.render.frame_process.FrameProcess`; call it from one thread only.

    The view is a bare VTK render window (:class:`reviewer.render.offscreen.OffscreenView`),
    not a ``pyvista.Plotter``: the render process then never imports ``pyvista.plotting``
    (and ``matplotlib`` with it), about a second less before its first frame, for the same
    pixels.
    """

    def __init__(self, *, floor: bool = True, show_height: bool = True) -> None:
        from reviewer.render import scene
        from reviewer.render.offscreen import OffscreenView

        self._floor = floor
        self._show_height = show_height
        self.plotter = OffscreenView(window_size=(64, 64))
        scene.prepare_plotter(self.plotter)
        self._handle: Any = None
        self.shown: Avatar | None = None  # the avatar whose up axis the scene stands on

    def warm_up(self, sample: DisplayAvatar) -> None:
        """Draw *sample* once, small, and drop it (compiles the shaders), unless an avatar is
        shown already."""
        from reviewer.render import scene

        if self._handle is not None:
            return
        scene.show_avatar(self.plotter, sample)
        self.plotter.render_window.SetSize(64, 64)
        self.plotter.render_window.Render()
        scene.clear_scene(self.plotter)

    def show(self, display: DisplayAvatar | None, *, avatar: Avatar | None = None) -> None:
        """Build the scene of *display* (None: an empty scene). Its meshes must be this
        thread's own objects; *avatar*, if given, is the caller's avatar they were copied
        from, which requests name (default: ``display.avatar``)."""
        from reviewer.render import scene

        self._handle, self.shown = None, None
        scene.clear_scene(self.plotter)
        if display is not None:
            self._handle = scene.show_avatar(
                self.plotter, display, floor=self._floor, show_height=self._show_height
            )
            self.shown = display.avatar if avatar is None else avatar

    def render(self, request: FrameRequest) -> np.ndarray | None:
        """The frame *request* asks for, or None when it is of another avatar than the one
        shown (``request.avatar`` must share the shown avatar's parts)."""
        from reviewer.render import scene

        handle, shown = self._handle, self.shown
        if handle is None or shown is None or request.avatar.parts is not shown.parts:
            return None
        if request.avatar is not shown:
            scene.set_upright(handle, _with_parts(request.avatar, handle.avatar))
            self.shown = request.avatar
        return _render(self.plotter, handle, request)

    def close(self) -> None:
        self._handle, self.shown = None, None
        self.plotter.close()


def _render(plotter: Any, handle: Any, request: FrameRequest) -> np.ndarray:
    from reviewer.render import scene

    if request.mode != handle.mode:
        scene.set_mode(handle, request.mode)
    if request.lighting != handle.lighting:
        scene.set_lighting(plotter, request.lighting)
        handle.lighting = request.lighting
    window = plotter.render_window
    width, height = request.size
    if tuple(window.GetSize()) != (width, height):
        window.SetSize(width, height)
    apply_camera_state(plotter, request.camera, bounds=handle.bounds)
    window.Render()
    return grab_frame(window)


def grab_frame(window: Any) -> np.ndarray:
    """The frame just rendered in the off-screen *window*, as (H, W, 3) uint8, top row first
    (read from the back buffer, without drawing it again)."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

    grab = vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.ShouldRerenderOff()  # it would draw the whole frame again
    grab.ReadFrontBufferOff()
    grab.SetInputBufferTypeToRGB()
    grab.Update()
    output = grab.GetOutput()
    columns, rows, _ = output.GetDimensions()
    pixels = vtk_to_numpy(output.GetPointData().GetScalars()).reshape(rows, columns, -1)
    return np.ascontiguousarray(pixels[::-1, :, :3])


def _with_parts(avatar: Avatar, like: Avatar) -> Avatar:
    """*avatar*'s up axis and transform on the parts of *like* (this thread's copies)."""
    return dataclasses.replace(avatar, parts=like.parts)


def _own_copy(display: DisplayAvatar) -> DisplayAvatar:
    """*display* with shallow copies of its meshes and images (the arrays are shared).

    A VTK data object records in itself which pipeline produces it; two threads attaching
    the same object to their own mappers would write that record concurrently.
    """
    import pyvista as pv

    from reviewer.assets.meshes import Avatar
    from reviewer.render.proxy import DisplayAvatar

    avatar = display.avatar
    parts = []
    for part in avatar.parts:
        mesh = pv.PolyData()
        mesh.ShallowCopy(part.mesh)
        parts.append(dataclasses.replace(part, mesh=mesh))
    copied = Avatar(
        parts=tuple(parts),
        up_axis=avatar.up_axis,
        upright_transform=avatar.upright_transform,
        units=avatar.units,
        source=avatar.source,
        format=avatar.format,
    )
    textures: dict[int, Any] = {}
    for part in avatar.parts:
        data = display.texture_data.get(id(part.texture))
        if data is not None and id(part.texture) not in textures:
            image = pv.ImageData()
            image.ShallowCopy(data)
            textures[id(part.texture)] = image
    return DisplayAvatar(copied, None, 0.0, textures)


__all__ = [
    "CameraState",
    "FrameRequest",
    "FrameScene",
    "FullFrameRenderer",
    "apply_camera_state",
    "camera_state",
]
