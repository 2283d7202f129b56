"""The running app's side of the benchmark: a real AvatarViewer under X (Xvfb in CI).

    python -m bench.in_app [--texture IMAGE] [--opens 3] [--orbit-frames 40] [--orbits 3] FILE

Opens FILE the way the review workspace opens an imported avatar (its stored copy, made
here first as an import makes it, mapped by ``load_through_store`` on a worker thread of the
Qt pool; with ``--from-file`` parsed from FILE itself by ``load_avatar``, as before import
stored avatars), then ``AvatarViewer.show_avatar``: the full-detail frame of a big avatar, or
of one with a texture above 1024² pixels, is drawn by the viewer's render process while a
worker builds its proxy, which is all the GUI process draws;
with REVIEWER_FULL_FRAME_PROCESS=0 the full mesh is drawn on screen first and the proxy built
afterwards) in a viewer whose 3D view is 1280×800, after the viewer has shown one small
avatar (the app is running, warm).
Measures, per open, the time from the request to the first full-detail textured frame on
screen (``full_frame_shown``: drawn live, or laid over the view from the render process), and
the longest stall of the GUI thread meanwhile (a 5 ms timer that should tick on time); then
orbits with the mouse, with the proxy as the app does and with the full avatar drawn live
(each the median of ``--orbits`` orbits, every one from the front view).
Prints one JSON line; ``peak_mb`` is the GUI process's (not the render process's).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")

VIEW_SIZE = (1280, 800)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.in_app", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--texture", type=Path)
    parser.add_argument("--opens", type=int, default=3)
    parser.add_argument("--orbit-frames", type=int, default=40)
    parser.add_argument("--full-orbit-frames", type=int, default=6)
    parser.add_argument(
        "--orbits", type=int, default=3, help="orbits per viewer, each from the front (median)"
    )
    parser.add_argument("--from-file", action="store_true", help="parse FILE at every open")
    parser.add_argument("--store", type=Path, default=Path("/tmp/twin-bench/stored"))
    args = parser.parse_args(argv)

    from PySide6.QtCore import QElapsedTimer, QEvent, QPointF, Qt, QTimer

    from bench.qt_mouse import send_mouse
    from reviewer.assets.meshes import Avatar, load_avatar
    from reviewer.assets.stored_avatar import load_through_store
    from reviewer.render.proxy import needs_proxy
    from reviewer.services.avatars import store_avatar
    from reviewer.ui.application import create_application
    from reviewer.ui.avatar_viewer import AvatarViewer
    from reviewer.ui.workers import LatestOnlyRunner

    app = create_application([])

    # What an import does: parse the file once and store it, with its proxy if it moves as
    # one (timed, reported as store_s).
    store = args.store / f"{args.file.name}.twinavatar"
    started = time.perf_counter()
    store.unlink(missing_ok=True)
    store_avatar(args.file, texture=args.texture, store=store)
    store_s = time.perf_counter() - started

    def open_file() -> Avatar:
        if args.from_file:
            return load_avatar(args.file, texture=args.texture)
        return load_through_store(args.file, texture=args.texture, store=store)

    def settle(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.002)

    def wait_for(flag: list[object], limit: float = 120.0) -> None:
        end = time.perf_counter() + limit
        while not flag and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
        if not flag:
            raise SystemExit(f"timed out after {limit:.0f} s")

    def make_viewer(**options: int) -> AvatarViewer:
        viewer = AvatarViewer(**options)
        viewer.show()
        settle(0.2)
        bar = viewer.height() - viewer.plotter.height()
        viewer.resize(VIEW_SIZE[0], VIEW_SIZE[1] + bar)
        settle(0.3)
        return viewer

    viewer = make_viewer()
    import pyvista as pv

    warm = pv.Sphere(theta_resolution=60, phi_resolution=60)
    warm.point_data["TextureCoordinates"] = warm.points[:, :2] + 0.5
    warm.point_data.active_texture_coordinates_name = "TextureCoordinates"
    shown: list[object] = []
    viewer.full_frame_shown.connect(lambda: shown.append(time.perf_counter()))
    import numpy as np

    checker = (np.indices((64, 64)).sum(axis=0) % 2 * 200 + 30).astype(np.uint8)
    viewer.show_avatar(Avatar.from_polydata(warm, texture=np.dstack([checker] * 3)))
    wait_for(shown)
    settle(0.3)

    # The GUI thread's pulse: a 5 ms timer; a late tick is a stall.
    pulse = QElapsedTimer()
    gaps: list[float] = []

    def tick() -> None:
        gaps.append(pulse.restart() / 1000.0)

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)

    runner = LatestOnlyRunner()
    opens: list[dict[str, float]] = []
    for _ in range(args.opens):
        viewer.show_loading("Loading…")
        settle(0.3)
        shown.clear()
        loaded: list[float] = []
        failed: list[str] = []
        gaps.clear()
        pulse.start()
        timer.start()
        started = time.perf_counter()

        def work(loaded: list[float] = loaded) -> object:
            # What the review workspace's loader does: load on a pool thread, hand the plain
            # avatar over; the viewer builds the proxy while the full frame is drawn.
            avatar = open_file()
            loaded.append(time.perf_counter())
            return avatar

        runner.start(work, viewer.show_avatar, failed.append)
        end = time.perf_counter() + 120
        while (not shown or viewer.display is None) and not failed and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
        # The pulse goes on a little after the frame: what the GUI thread does right after it
        # (the live scene's first paint, under the frame) counts as part of the open too.
        settle(0.4)
        timer.stop()
        if failed or not shown:
            raise SystemExit(f"could not show {args.file}: {failed}")
        opens.append(
            {
                "to_full_frame_s": float(shown[0]) - started,  # type: ignore[arg-type]
                "worker_s": loaded[0] - started,
                "max_gui_stall_s": max(gaps, default=0.0),
            }
        )
        # Without the render process a big avatar's proxy is built after its first full frame:
        # wait for it.
        avatar = viewer.avatar
        if avatar is not None and needs_proxy(avatar):
            end = time.perf_counter() + 60
            while viewer.display.proxy is None and time.perf_counter() < end:  # type: ignore[union-attr]
                app.processEvents()
                time.sleep(0.001)
        settle(0.5)
    peak_after_open = _peak_mb()

    def orbits(target: AvatarViewer, frames: int) -> float:
        """The median frame rate of --orbits orbits, each starting from the front view."""
        rates = []
        for _ in range(max(1, args.orbits)):
            target.set_view("front")
            settle(0.5)
            rates.append(orbit(target, frames))
        return statistics.median(rates)

    def orbit(target: AvatarViewer, frames: int) -> float:
        widget = target.plotter
        painted = [0]
        tag = widget.renderer.AddObserver(
            "EndEvent", lambda *_: painted.__setitem__(0, painted[0] + 1)
        )
        centre = QPointF(widget.width() / 2, widget.height() / 2)

        def send(
            kind: QEvent.Type, position: QPointF, button: Qt.MouseButton, buttons: Qt.MouseButton
        ) -> None:
            send_mouse(widget, kind, position, button, buttons)

        left = Qt.MouseButton.LeftButton
        send(QEvent.Type.MouseButtonPress, centre, left, left)
        settle(0.3)  # the first frame of the proxy (and a late full frame) out of the way
        count = painted[0]
        started = time.perf_counter()
        for step in range(1, frames + 1):
            send(
                QEvent.Type.MouseMove,
                centre + QPointF(6.0 * step, 0.0),
                Qt.MouseButton.NoButton,
                left,
            )
            end = time.perf_counter() + 30
            while painted[0] < count + step and time.perf_counter() < end:
                app.processEvents()
        elapsed = time.perf_counter() - started
        send(
            QEvent.Type.MouseButtonRelease,
            centre + QPointF(6.0 * frames, 0.0),
            left,
            Qt.MouseButton.NoButton,
        )
        widget.renderer.RemoveObserver(tag)
        settle(0.3)
        return frames / elapsed

    proxy_used = viewer.display is not None and viewer.display.proxy is not None
    viewer_proxy_triangles = viewer.display.proxy_triangles if viewer.display else 0
    fps_proxy = fps_full = None
    if args.orbit_frames:
        fps_proxy = orbits(viewer, args.orbit_frames)
    viewer.close()
    settle(0.2)

    if args.orbit_frames and args.full_orbit_frames:
        full = make_viewer(proxy_above=10**12, proxy_texture_size=1 << 20)
        avatar = open_file()
        shown.clear()
        full.full_frame_shown.connect(lambda: shown.append(time.perf_counter()))
        full.show_avatar(avatar)
        wait_for(shown)
        settle(0.3)
        fps_full = orbits(full, args.full_orbit_frames)
        full.close()

    print(
        json.dumps(
            {
                "file": str(args.file),
                "from_file": args.from_file,
                "store_s": store_s,
                "to_full_frame_s": statistics.median(o["to_full_frame_s"] for o in opens),
                "worker_s": statistics.median(o["worker_s"] for o in opens),
                "max_gui_stall_s": max(o["max_gui_stall_s"] for o in opens),
                "proxy_triangles": viewer_proxy_triangles,
                "opens": opens,
                "orbit_fps_proxy": fps_proxy if proxy_used else None,
                "orbit_fps_full": fps_full,
                "peak_mb": peak_after_open,
            }
        )
    )
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
