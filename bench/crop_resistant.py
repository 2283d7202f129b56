"""Why the lookup does not use imagehash's crop-resistant hash: the same renders, the same
transformations, side by side with ``check-image``.

    python -m bench.crop_resistant [--library DIR]

For every distinct render of the demo library (built in a temporary folder unless
``--library`` names one), at most 512 pixels a side: ``imagehash.crop_resistant_hash`` of the
render and of each transformed copy (tests/misuse/wild.py); *top-1* counts the copies whose
nearest render by that hash's distance is the one they were made from (ties included: the
demo holds the same picture in two requests). The same copies go through
:class:`reviewer.services.misuse.MisuseChecker`, where a copy counts when the render it was
made from is among the best-scored matches. Prints both, and the time per
crop-resistant hash and per check.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "misuse")]

from wild import TRANSFORMS, raw_bytes  # noqa: E402

SHOWN = ("crop 20% corner", "crop 15% off-centre", "caption over corner",
         "screenshot with border", "jpeg q12", "horizontal flip")


def main(argv: list[str] | None = None) -> None:
    import imagehash
    import sqlalchemy as sa
    from PIL import Image

    from reviewer.services.demo import build_demo_library
    from reviewer.services.misuse import MisuseChecker, found_image_from_bytes
    from reviewer.storage.library import Library
    from reviewer.storage.schema import assets

    parser = argparse.ArgumentParser(prog="python -m bench.crop_resistant", description=__doc__)
    parser.add_argument("--library", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        root = args.library
        if root is None:
            root = Path(work) / "library"
            print("building the demo library…", file=sys.stderr)
            build_demo_library(root)
        with Library.open(root) as library:
            with library.reader.connect() as conn:
                shas = [r[0] for r in conn.execute(
                    sa.select(assets.c.sha256).where(assets.c.role == "render").distinct())]
            renders = {}
            for sha in shas:
                image = Image.open(library.objects.path_for(sha)).convert("RGB")
                image.thumbnail((512, 512))
                renders[sha] = image
            started = time.perf_counter()
            hashes = {sha: imagehash.crop_resistant_hash(img) for sha, img in renders.items()}
            per_hash = (time.perf_counter() - started) / len(renders)
            checker = MisuseChecker(library)
            times: list[float] = []
            print(f"{len(renders)} renders; top-1 right out of {len(renders)}")
            print(f"{'transformation':<26}{'crop-resistant hash':>20}{'check-image':>13}")
            for name in SHOWN:
                by_hash = by_check = 0
                for sha, image in renders.items():
                    copy = TRANSFORMS[name](image)
                    query = imagehash.crop_resistant_hash(copy)
                    distances = {other: query - hashes[other] for other in hashes}
                    by_hash += distances[sha] == min(distances.values())
                    began = time.perf_counter()
                    result = checker.check(found_image_from_bytes("copy.bmp", raw_bytes(copy)))
                    times.append(time.perf_counter() - began)
                    top = result.best.similarity if result.best is not None else None
                    by_check += any(m.asset_sha256 == sha and abs(m.similarity - top) < 1e-3
                                    for m in result.matches if top is not None)
                print(f"{name:<26}{by_hash:>20}{by_check:>13}")
            print(f"time: {per_hash * 1000:.0f} ms per crop-resistant hash (and its distance is "
                  f"a loop over segments, not one vectorised search); "
                  f"{statistics.median(times) * 1000:.0f} ms per whole check (median)")


if __name__ == "__main__":
    main()
