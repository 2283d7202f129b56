"""Compare mode's costs: a linked orbit of several looks, and the heat map of two big meshes.

    xvfb-run -a -s "-screen 0 1600x1000x24" python -m bench.compare [--workdir DIR]
        [--frames 30] [--runs 3] [--size 1280x800]

Looks are the body-shaped benchmark avatars of :mod:`bench.avatars` (binary PLY with normals
and UVs, and the 4096² JPEG texture), shown textured as compare mode shows them: each in its
own :class:`~reviewer.ui.avatar_viewer.AvatarViewer` in a grid filling a SIZE window (2×2 for
four looks, 1×2 for two), the full mesh drawn (compare views build no proxy, see
``reviewer.ui.look_grid.NO_PROXY``), anti-aliasing off (software OpenGL), cameras linked by
:class:`~reviewer.ui.camera_link.CameraLink`.

- *Linked orbit*: mouse drags in the first view; a frame counts once every view has drawn the
  new camera. Frames per second, median of RUNS orbits of FRAMES steps. One view alone, in
  the same window size, is measured alongside for reference.
- *Heat map*: :func:`reviewer.render.mesh_compare.compare_meshes` of a look against a copy
  whose waist swells by up to 25 mm (a garment), as placed: alignment, then the distance of
  every vertex of one to the surface of the other. Seconds, median of RUNS.

Prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/twin-bench"))
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", default="1280x800")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    if not os.environ.get("DISPLAY"):
        raise SystemExit("compare views need an X server: run under xvfb-run (see --help)")

    from bench.avatars import build_avatars

    print(f"building avatars in {args.workdir} …", flush=True)
    avatars = {a.label: a for a in build_avatars(args.workdir, ["100k", "1M"])}

    from reviewer.assets.meshes import load_avatar

    looks = {
        label: load_avatar(avatar.ply, texture=avatar.texture_jpeg)
        for label, avatar in avatars.items()
    }
    results: dict[str, object] = {
        "window": f"{width}x{height}",
        "frames": args.frames,
        "runs": args.runs,
    }
    rows: list[tuple[str, str, str]] = []

    orbit = _OrbitBench((width, height))
    try:
        for label, count in (("100k", 4), ("100k", 1), ("1M", 2), ("1M", 1)):
            fps = orbit.measure(looks[label], count, args.frames, args.runs)
            key = f"orbit_{count}x{label}_fps"
            results[key] = fps
            what = "linked orbit" if count > 1 else "one view alone (reference)"
            rows.append(
                (
                    f"{what}: {count} × {looks[label].triangles:,} triangles",
                    f"{statistics.median(fps):.1f} fps",
                    " / ".join(f"{v:.1f}" for v in fps),
                )
            )
    finally:
        orbit.close()

    for label in ("100k", "1M"):
        seconds, comparison = _heat_map(looks[label], args.runs)
        results[f"heat_map_{label}_s"] = seconds
        results[f"heat_map_{label}_max_mm"] = comparison.max_mm
        rows.append(
            (
                f"heat map: {looks[label].points:,} vertices to {looks[label].triangles:,}"
                " triangles",
                f"{statistics.median(seconds):.2f} s",
                " / ".join(f"{v:.2f}" for v in seconds),
            )
        )

    print()
    print(
        f"Compare mode on this machine ({os.cpu_count()} cores, window {width}×{height}, "
        f"software OpenGL, anti-aliasing off); medians of {args.runs} runs"
    )
    print()
    widths = [max(len(row[i]) for row in [("measure", "median", "runs"), *rows]) for i in range(3)]
    print(f"| {'measure':<{widths[0]}} | {'median':>{widths[1]}} | {'runs':<{widths[2]}} |")
    print(f"| {'-' * widths[0]} | {'-' * (widths[1] - 1)}: | {'-' * widths[2]} |")
    for what, median, runs in rows:
        print(f"| {what:<{widths[0]}} | {median:>{widths[1]}} | {runs:<{widths[2]}} |")
    print()
    print(json.dumps(results))
    sys.stdout.flush()
    os._exit(0)  # tearing the render windows down is not part of the measurement


class _OrbitBench:
    """A window with a grid of avatar viewers, cameras linked; orbits by mouse."""

    def __init__(self, size: tuple[int, int]) -> None:
        from reviewer.ui.application import create_application

        self.app = create_application([])
        self.size = size
        self.window = None
        self.viewers: list = []  # type: ignore[type-arg]
        self.link = None

    def settle(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.app.processEvents()
            time.sleep(0.002)

    def _build(self, avatar: object, count: int) -> None:
        from PySide6.QtWidgets import QGridLayout, QWidget

        from reviewer.render.proxy import prepare_for_display
        from reviewer.ui.avatar_viewer import AvatarViewer
        from reviewer.ui.camera_link import CameraLink
        from reviewer.ui.look_grid import NO_PROXY, hide_viewer_bar

        self.close()
        window = QWidget()
        grid = QGridLayout(window)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(3)
        link = CameraLink(window)
        columns = 2 if count == 4 else count
        display = prepare_for_display(
            avatar,  # type: ignore[arg-type]
            proxy_above=NO_PROXY,
            texture_size=NO_PROXY,
        )
        viewers = []
        for index in range(count):
            viewer = AvatarViewer(
                window, proxy_above=NO_PROXY, proxy_texture_size=NO_PROXY, warm_up=False
            )
            hide_viewer_bar(viewer)
            grid.addWidget(viewer, index // columns, index % columns)
            viewers.append(viewer)
            link.add(viewer)
        window.resize(*self.size)
        window.show()
        self.settle(0.3)
        for viewer in viewers:
            viewer.show_avatar(display)
            link.adopt(viewer)
        self.settle(1.0)
        self.window, self.viewers, self.link = window, viewers, link

    def measure(self, avatar: object, count: int, frames: int, runs: int) -> list[float]:
        self._build(avatar, count)
        return [self._orbit(frames) for _ in range(runs)]

    def _orbit(self, frames: int) -> float:
        from PySide6.QtCore import QEvent, QPointF, Qt

        from bench.qt_mouse import send_mouse

        widget = self.viewers[0].plotter
        painted = [0] * len(self.viewers)
        tags = []
        for index, viewer in enumerate(self.viewers):
            renderer = viewer.plotter.renderer

            def count(*_: object, i: int = index) -> None:
                painted[i] += 1

            tags.append((renderer, renderer.AddObserver("EndEvent", count)))
        centre = QPointF(widget.width() / 2, widget.height() / 2)
        left = Qt.MouseButton.LeftButton

        def send(
            kind: QEvent.Type, position: QPointF, button: Qt.MouseButton, buttons: Qt.MouseButton
        ) -> None:
            send_mouse(widget, kind, position, button, buttons)

        send(QEvent.Type.MouseButtonPress, centre, left, left)
        self.settle(0.3)
        base = list(painted)
        started = time.perf_counter()
        for step in range(1, frames + 1):
            send(
                QEvent.Type.MouseMove,
                centre + QPointF(5.0 * step, 0.0),
                Qt.MouseButton.NoButton,
                left,
            )
            end = time.perf_counter() + 60
            while (
                any(p < b + step for p, b in zip(painted, base, strict=True))
                and time.perf_counter() < end
            ):
                self.app.processEvents()
        elapsed = time.perf_counter() - started
        send(
            QEvent.Type.MouseButtonRelease,
            centre + QPointF(5.0 * frames, 0.0),
            left,
            Qt.MouseButton.NoButton,
        )
        for renderer, tag in tags:
            renderer.RemoveObserver(tag)
        self.settle(0.3)
        first = self.link.camera() if self.link is not None else None
        if first is not None:
            from reviewer.ui.camera_link import read_camera

            assert all(read_camera(v).close_to(first) for v in self.viewers), "views unlinked"
        return frames / elapsed

    def close(self) -> None:
        for viewer in self.viewers:
            viewer.close_interactor()
        if self.window is not None:
            self.window.close()
            self.window.deleteLater()
        self.viewers = []
        self.window = None
        self.settle(0.1)


def _heat_map(look: object, runs: int) -> tuple[list[float], object]:
    import numpy as np
    import pyvista as pv

    from reviewer.assets.meshes import Avatar
    from reviewer.render.mesh_compare import compare_meshes

    mesh = look.parts[0].mesh  # type: ignore[attr-defined]
    points = np.asarray(mesh.points, dtype=np.float64)
    normals = np.asarray(mesh.point_data["Normals"], dtype=np.float64)
    y = points[:, 1]
    waist = y.min() + 0.6 * (y.max() - y.min())
    swell = 0.025 * np.exp(-(((y - waist) / (0.08 * (y.max() - y.min()))) ** 2))
    other = pv.PolyData.from_regular_faces(
        points + normals * swell[:, None], np.asarray(mesh.regular_faces)
    )
    other.point_data["Normals"] = normals.astype(np.float32)
    garment = Avatar.from_polydata(other)
    seconds = []
    comparison = None
    for _ in range(runs):
        started = time.perf_counter()
        comparison = compare_meshes(look, garment)  # type: ignore[arg-type]
        seconds.append(time.perf_counter() - started)
    return seconds, comparison


if __name__ == "__main__":
    main()
