"""One process, one file, one frame: the whole-process cost of showing an avatar.

    python -m bench.first_frame [--engine ours|f3d] [--texture IMAGE] [--size 1280x800]
                                [--stored STORED] [--out PNG] FILE

``ours`` loads with :func:`reviewer.assets.meshes.load_avatar` (on a thread, while the render
window is set up), or with ``--stored`` maps the avatar's stored copy STORED
(:mod:`reviewer.assets.stored_avatar`; made first if it is missing, but the caller makes it
beforehand, as an import does: the app opens every imported avatar that way),
and draws with :func:`reviewer.render.scene.show_avatar` in the bare
off-screen VTK view the render process uses (:class:`reviewer.render.offscreen.OffscreenView`,
anti-aliasing off; ``pyvista.plotting`` and ``matplotlib`` are never imported), at the full
resolution of the mesh: no proxy;
``f3d`` loads and draws with f3d's own Python engine (``pip install f3d``; the wheel has no
command-line binary). Both write the frame as a PNG and leave at once (``os._exit``: tearing
down the interpreter is not part of getting a frame on screen). Prints one JSON line with the
time spent inside the process and its peak memory; the caller times the process from spawn.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()

import argparse  # noqa: E402 - the clock starts before anything else is imported
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def _ours(
    path: Path, texture: Path | None, size: tuple[int, int], out: Path, stored: Path | None
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    from reviewer.assets.meshes import load_avatar
    from reviewer.assets.stored_avatar import load_through_store
    from reviewer.render import scene
    from reviewer.render.full_frame import grab_frame
    from reviewer.render.offscreen import OffscreenView

    # As the app does at start-up: the file loads on one thread (its texture decoding on
    # another) while this one creates the render window and pays VTK's one-time set-up.
    with ThreadPoolExecutor(max_workers=1) as pool:
        if stored is not None:
            loading = pool.submit(load_through_store, path, texture=texture, store=stored)
        else:
            loading = pool.submit(load_avatar, path, texture=texture)
        view = OffscreenView(window_size=size)
        scene.prepare_plotter(view)
        view.render_window.Render()
        avatar = loading.result()
    scene.show_avatar(view, avatar)
    window = view.render_window
    window.Render()
    pixels = grab_frame(window)
    # zlib's fastest level: the file only shows that the frame was made.
    Image.fromarray(pixels).save(out, compress_level=1)


def _f3d(
    path: Path, texture: Path | None, size: tuple[int, int], out: Path, stored: Path | None
) -> None:
    del stored  # f3d reads the file itself
    import f3d

    engine = f3d.Engine.create(True)
    if texture is not None:
        engine.options["model.color.texture"] = str(texture)
    engine.window.size = size
    engine.scene.add(str(path))
    engine.window.render_to_image().save(str(out))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.first_frame", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--engine", choices=("ours", "f3d"), default="ours")
    parser.add_argument("--texture", type=Path)
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--out", type=Path, default=Path("/tmp/first-frame.png"))
    parser.add_argument("--stored", type=Path, help="ours: open the avatar's stored copy")
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.size.lower().split("x"))
    draw = _ours if args.engine == "ours" else _f3d
    draw(args.file, args.texture, (width, height), args.out, args.stored)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"in_process_s": time.perf_counter() - _STARTED, "peak_mb": peak_mb}))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
