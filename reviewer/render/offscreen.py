"""A bare off-screen VTK view: what :mod:`reviewer.render.scene` needs of a plotter, without
``pyvista.plotting``.

Importing ``pyvista.plotting`` costs about half a second (it imports ``matplotlib.pyplot``)
and a ``pyvista.Plotter`` a little more to create; a process that only draws full-detail
frames (:class:`reviewer.render.full_frame.FrameScene`, in the render process of
:mod:`reviewer.render.frame_process`) pays that before its first frame. :class:`OffscreenView`
is one ``vtkRenderWindow`` and one ``vtkRenderer`` set up as an off-screen
``pyvista.Plotter(off_screen=True)`` is once :func:`reviewer.render.scene.prepare_plotter`
has run: no multisampling, no FXAA, no depth peeling, no automatic light, off-screen buffers
of the render window class VTK's factory picks (EGL with no display, as pyvista gets). What
pyvista adds beyond that and does not show in a frame (an interactor, an empty overlay
renderer on a second layer, its own camera and actor wrappers) is left out; the scene drawn
is the same pixel for pixel (``tests/render/test_offscreen.py`` compares the two).
"""

from __future__ import annotations

from typing import Any


class OffscreenView:
    """One off-screen render window and its renderer, with the plotter methods the scene
    module calls: ``renderer``, ``render_window``, ``window_size``, ``actors``,
    ``add_actor``, ``remove_actor``, ``set_background``, ``disable_anti_aliasing``,
    ``remove_all_lights``, ``add_light`` and ``reset_camera``. Nothing here renders unless
    asked to (``render_window.Render()``)."""

    def __init__(self, window_size: tuple[int, int] = (64, 64)) -> None:
        # The factory overrides: the OpenGL render window (EGL, GLX or OSMesa, chosen at run
        # time), textures, mappers, and FreeType for text.
        import vtkmodules.vtkRenderingFreeType
        import vtkmodules.vtkRenderingOpenGL2  # noqa: F401
        from vtkmodules.vtkRenderingCore import vtkRenderer, vtkRenderWindow

        window = vtkRenderWindow()
        window.SetMultiSamples(0)
        window.SetOffScreenRendering(1)
        renderer = vtkRenderer()
        # Lights are the scene's (reviewer.render.scene.set_lighting); with none, VTK would
        # add a headlight on the first render, which pyvista's renderers never do.
        renderer.SetAutomaticLightCreation(False)
        renderer.SetUseFXAA(False)
        renderer.SetUseDepthPeeling(False)
        window.AddRenderer(renderer)
        window.SetSize(*window_size)
        self.renderer = renderer
        self.render_window = window
        self.actors: dict[str, Any] = {}

    @property
    def window_size(self) -> tuple[int, int]:
        width, height = self.render_window.GetSize()
        return int(width), int(height)

    def add_actor(
        self, actor: Any, *, name: str, reset_camera: bool = False, render: bool = False
    ) -> Any:
        """Add *actor* as *name*, replacing any actor of that name."""
        self.remove_actor(name)
        self.actors[name] = actor
        self.renderer.AddActor(actor)
        if reset_camera:
            self.reset_camera(render=render)
        elif render:
            self.render_window.Render()
        return actor

    def remove_actor(self, name: str, *, reset_camera: bool = False, render: bool = False) -> bool:
        actor = self.actors.pop(name, None)
        if actor is None:
            return False
        self.renderer.RemoveActor(actor)
        if reset_camera:
            self.reset_camera(render=render)
        elif render:
            self.render_window.Render()
        return True

    def set_background(self, bottom: Any, *, top: Any = None) -> None:
        """A plain background of *bottom*, or a vertical gradient up to *top* (colours as
        ``"#rrggbb"`` or RGB floats)."""
        self.renderer.SetBackground(*rgb(bottom))
        if top is None:
            self.renderer.SetGradientBackground(False)
        else:
            self.renderer.SetGradientBackground(True)
            self.renderer.SetBackground2(*rgb(top))

    def disable_anti_aliasing(self) -> None:
        self.render_window.SetMultiSamples(0)
        self.renderer.SetUseFXAA(False)

    def remove_all_lights(self) -> None:
        self.renderer.RemoveAllLights()

    def add_light(self, light: Any) -> None:
        self.renderer.AddLight(light)

    def reset_camera(self, *, render: bool = False) -> None:
        self.renderer.ResetCamera()
        self.renderer.ResetCameraClippingRange()
        if render:
            self.render_window.Render()

    def close(self) -> None:
        """Free the window's graphics resources; the view cannot render after this."""
        for name in list(self.actors):
            self.remove_actor(name)
        self.renderer.RemoveAllLights()
        self.render_window.RemoveRenderer(self.renderer)
        self.render_window.Finalize()


def rgb(colour: Any) -> tuple[float, float, float]:
    """*colour* (``"#rrggbb"`` or three floats in 0..1) as three floats in 0..1."""
    if isinstance(colour, str):
        text = colour.removeprefix("#")
        if len(text) != 6:
            raise ValueError(f"not a #rrggbb colour: {colour!r}")
        return tuple(int(text[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]
    red, green, blue = colour
    return float(red), float(green), float(blue)


__all__ = ["OffscreenView", "rgb"]
