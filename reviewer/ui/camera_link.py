"""Linked cameras for a comparison: orbit one view and every other view follows.

Each :class:`~reviewer.ui.avatar_viewer.AvatarViewer` keeps its own VTK camera; the link copies
the camera of whichever view moved into the others. It notices a move where every move ends:
in the moved view's next render (VTK's ``StartEvent`` on its renderer), whether the move came
from the mouse, the wheel, a preset view, the viewer's turntable or code. The copies only
schedule a paint of the other views (the viewers render once per Qt paint), so no view
renders inside another's render.

Cameras are copied in metres: a look saved in centimetres has a camera a hundred times
further away in its own units, and the overlay and heat map are built in metres
(:mod:`reviewer.render.mesh_compare`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from reviewer.ui.avatar_viewer import AvatarViewer

_TOLERANCE = 1e-7  # metres: smaller moves are the same camera


@dataclass(frozen=True)
class LinkedCamera:
    """A camera in metres (see the module docstring), comparable across views."""

    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    up: tuple[float, float, float]
    view_angle: float
    parallel_projection: bool
    parallel_scale: float

    def close_to(self, other: LinkedCamera | None) -> bool:
        if other is None or self.parallel_projection != other.parallel_projection:
            return False
        mine = np.array([*self.position, *self.focal_point, *self.up, self.parallel_scale])
        theirs = np.array([*other.position, *other.focal_point, *other.up, other.parallel_scale])
        return (
            bool(np.abs(mine - theirs).max() <= _TOLERANCE)
            and abs(self.view_angle - other.view_angle) < 1e-9
        )


def metres_per_scene_unit(viewer: AvatarViewer) -> float:
    """How many metres one unit of the viewer's scene is (1 for an avatar of unknown units)."""
    from reviewer.render.mesh_compare import metres_per_unit

    avatar = viewer.avatar
    if avatar is None:
        return 1.0
    return metres_per_unit(avatar) or 1.0


def read_camera(viewer: AvatarViewer) -> LinkedCamera:
    camera = viewer.plotter.renderer.GetActiveCamera()
    scale = metres_per_scene_unit(viewer)
    return LinkedCamera(
        position=tuple(float(v) * scale for v in camera.GetPosition()),  # type: ignore[arg-type]
        focal_point=tuple(float(v) * scale for v in camera.GetFocalPoint()),  # type: ignore[arg-type]
        up=tuple(float(v) for v in camera.GetViewUp()),  # type: ignore[arg-type]
        view_angle=float(camera.GetViewAngle()),
        parallel_projection=bool(camera.GetParallelProjection()),
        parallel_scale=float(camera.GetParallelScale()) * scale,
    )


def write_camera(viewer: AvatarViewer, state: LinkedCamera) -> None:
    """Place the viewer's camera at *state* and schedule a paint (no render now)."""
    plotter = viewer.plotter
    camera = plotter.renderer.GetActiveCamera()
    scale = metres_per_scene_unit(viewer)
    camera.SetPosition(*(v / scale for v in state.position))
    camera.SetFocalPoint(*(v / scale for v in state.focal_point))
    camera.SetViewUp(*state.up)
    camera.SetViewAngle(state.view_angle)
    camera.SetParallelProjection(state.parallel_projection)
    camera.SetParallelScale(state.parallel_scale / scale)
    plotter.renderer.ResetCameraClippingRange()
    plotter.update()


class CameraLink(QObject):
    """Keeps the cameras of several avatar viewers the same while linked."""

    linked_changed = Signal(bool)
    interaction_started = Signal()
    """The mouse began to move a camera in one of the views (to stop a turntable)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._viewers: list[AvatarViewer] = []
        self._observers: dict[int, list[tuple[object, int]]] = {}
        self._linked = True
        self._applying = False
        self._last: LinkedCamera | None = None
        self.synced = 0
        """How many times cameras were copied, for tests and the benchmark."""

    # -- members ---------------------------------------------------------------------------------
    @property
    def viewers(self) -> tuple[AvatarViewer, ...]:
        return tuple(self._viewers)

    def add(self, viewer: AvatarViewer) -> None:
        if viewer in self._viewers:
            return
        self._viewers.append(viewer)
        plotter = viewer.plotter
        renderer = plotter.renderer
        watched: list[tuple[object, int]] = [
            (renderer, renderer.AddObserver("StartEvent", self._observer_for(viewer)))
        ]
        interactor = getattr(plotter, "iren", None)
        if interactor is not None:
            style = interactor.interactor.GetInteractorStyle()
            if style is not None:
                tag = style.AddObserver(
                    "StartInteractionEvent", lambda *_: self.interaction_started.emit()
                )
                watched.append((style, tag))
        key = id(viewer)
        self._observers[key] = watched
        viewer.destroyed.connect(lambda *_args: self._forget(key))

    def remove(self, viewer: AvatarViewer) -> None:
        if viewer not in self._viewers:
            return
        self._viewers.remove(viewer)
        for subject, tag in self._observers.pop(id(viewer), []):
            subject.RemoveObserver(tag)  # type: ignore[attr-defined]

    def _forget(self, key: int) -> None:
        self._viewers = [v for v in self._viewers if id(v) != key]
        self._observers.pop(key, None)

    # -- linking ---------------------------------------------------------------------------------
    @property
    def linked(self) -> bool:
        return self._linked

    def set_linked(self, linked: bool, *, source: AvatarViewer | None = None) -> None:
        """Link or unlink. On linking, every view takes the camera of *source* (default: the
        first view)."""
        if linked == self._linked:
            return
        self._linked = linked
        if linked and self._viewers:
            self.sync_from(source or self._viewers[0])
        self.linked_changed.emit(linked)

    def sync_from(self, viewer: AvatarViewer) -> None:
        """Copy *viewer*'s camera into every other view now (while linked)."""
        if not self._linked or self._applying or viewer not in self._viewers:
            return
        if viewer.avatar is None:
            return  # an empty view or a message has no camera worth sharing
        state = read_camera(viewer)
        self._last = state
        self._applying = True
        try:
            for other in self._viewers:
                if other is not viewer and other.avatar is not None:
                    write_camera(other, state)
        finally:
            self._applying = False
        self.synced += 1

    def apply(self, state: LinkedCamera) -> None:
        """Put every view at *state* (e.g. the camera the main window's view had)."""
        self._last = state
        self._applying = True
        try:
            for viewer in self._viewers:
                if viewer.avatar is not None:
                    write_camera(viewer, state)
        finally:
            self._applying = False

    def adopt(self, viewer: AvatarViewer) -> None:
        """Give *viewer*, which has just shown a new avatar framed its own way, the shared
        camera, instead of letting its fresh framing move every other view."""
        if not self._linked or viewer.avatar is None or viewer not in self._viewers:
            return
        state = self._last
        if state is None:
            others = [v for v in self._viewers if v is not viewer and v.avatar is not None]
            if not others:
                return
            state = read_camera(others[0])
            self._last = state
        self._applying = True
        try:
            write_camera(viewer, state)
        finally:
            self._applying = False

    def camera(self) -> LinkedCamera | None:
        """The shared camera: that of the first view that shows an avatar."""
        for viewer in self._viewers:
            if viewer.avatar is not None:
                return read_camera(viewer)
        return None

    def orbit(self, azimuth: float, elevation: float = 0.0) -> None:
        """Turn the first view's camera about the figure (degrees) and let the others follow:
        the same as dragging in that view."""
        leader = next((v for v in self._viewers if v.avatar is not None), None)
        if leader is None:
            return
        camera = leader.plotter.renderer.GetActiveCamera()
        camera.Azimuth(azimuth)
        camera.Elevation(elevation)
        camera.OrthogonalizeViewUp()
        leader.plotter.renderer.ResetCameraClippingRange()
        leader.plotter.update()
        self.sync_from(leader)

    def _observer_for(self, viewer: AvatarViewer) -> Callable[[object, str], None]:
        def on_render(_caller: object, _event: str) -> None:
            if not self._linked or self._applying or viewer.avatar is None:
                return
            state = read_camera(viewer)
            if not state.close_to(self._last):
                self.sync_from(viewer)

        return on_render

    def close(self) -> None:
        for viewer in list(self._viewers):
            self.remove(viewer)


__all__ = ["CameraLink", "LinkedCamera", "metres_per_scene_unit", "read_camera", "write_camera"]
