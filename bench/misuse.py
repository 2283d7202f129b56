"""How well ``check-image`` finds the right request, and how fast it looks up at scale.

    python -m bench.misuse [--library DIR] [--work DIR] [--quick]

1. **Precision and recall per transformation.** The set: every render of the demo library
   (built in a temporary folder, or ``--library`` pointing at an existing demo library) and
   the four photographs of ``../shared/corpus/images`` imported as renders. Each is put
   through every transformation of ``tests/misuse/wild.py`` and checked. *Recall*: the share
   of checks whose matches include the request the render belongs to. *Precision*: the share
   of reported matches that are right (a request holding the same picture counts as right).
   *Top-1*: the share whose first match is right. Images not in the library (held-out corpus
   photographs and noise) go through the same transformations; *false* counts those that
   matched anything. *Unseen renders*: each demo render checked against the library with
   itself (and every copy of its picture) left out, which is what a render the library never
   saw, of the same twin in the same pose and framing, looks like to the lookup.
2. **Lookup time at 1,000, 10,000 and 100,000 fingerprints** (synthetic fingerprints: random
   hashes, which cost the same to search as real ones), as medians: the vectorised hash search
   alone, loading the index from the database, and a whole check of a demo render in a
   library that holds the demo renders among that many others.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "misuse")]

from misuse_set import (  # noqa: E402
    CORPUS,
    CORPUS_HELD_OUT,
    import_corpus_photos,
    render_cases,
)
from PIL import Image  # noqa: E402
from wild import TRANSFORMS, noise, png_bytes, raw_bytes  # noqa: E402


def build_set(work: Path, library_dir: Path | None) -> Path:
    from reviewer.services.demo import build_demo_library
    from reviewer.storage.library import Library

    root = work / "library"
    if library_dir is not None:
        shutil.copytree(library_dir, root)
    else:
        print("building the demo library…", file=sys.stderr)
        build_demo_library(root)
    if CORPUS.is_dir():
        with Library.open(root) as library:
            import_corpus_photos(library, CORPUS, work / "packages")
    return root


def accuracy(root: Path, *, quick: bool) -> None:
    from reviewer.services.misuse import MATCH_MIN_SCORE, MisuseChecker, found_image_from_bytes
    from reviewer.storage.library import Library

    library = Library.open(root)
    checker = MisuseChecker(library)
    cases = render_cases(library)
    negatives = [(rel, Image.open(CORPUS / rel).convert("RGB")) for rel in CORPUS_HELD_OUT
                 if (CORPUS / rel).is_file()]
    negatives += [("noise", noise(1)), ("smooth noise", noise(2, smooth=True))]
    transforms = dict(list(TRANSFORMS.items())[:4]) if quick else TRANSFORMS
    rows = []
    times: list[float] = []
    for name, transform in transforms.items():
        found_right = top1 = reported = right = 0
        worst = 1.0
        for case in cases:
            query = raw_bytes(transform(Image.open(io.BytesIO(case.data))))
            started = time.perf_counter()
            result = checker.check(found_image_from_bytes("query.bmp", query))
            times.append(time.perf_counter() - started)
            got = [m.request_id for m in result.matches]
            found_right += case.request_id in got
            top1 += bool(got) and got[0] in case.expected
            reported += len(got)
            right += sum(r in case.expected for r in got)
            worst = min([worst] + [m.similarity for m in result.matches
                                   if m.request_id == case.request_id])
        false, unrelated_best = 0, -1.0
        for _label, image in negatives:
            found = found_image_from_bytes("query.bmp", raw_bytes(transform(image)))
            false += bool(checker.check(found).matches)
            unrelated_best = max(unrelated_best, best_score(library, found[1]))
        rows.append((name, found_right / len(cases), right / reported if reported else 1.0,
                     top1 / len(cases), worst, f"{false}/{len(negatives)}", unrelated_best))
    photos = sum(c.request_id.startswith("corpus-") for c in cases)
    print(f"\n{len(cases)} renders in the library ({photos} of them corpus photographs), "
          f"{len(negatives)} images not in it; match threshold {MATCH_MIN_SCORE}")
    print(f"{'transformation':<24}{'recall':>7}{'precision':>10}{'top-1':>7}"
          f"{'worst right':>12}{'false':>7}{'best unrelated':>16}")
    for name, recall, precision, top, worst, false, unrelated in rows:
        print(f"{name:<24}{recall:>7.3f}{precision:>10.3f}{top:>7.3f}{worst:>12.3f}"
              f"{false:>7}{unrelated:>16.3f}")
    print(f"check time: median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms")
    unseen(library, cases)
    library.close()


def best_score(library: object, query: object, exclude: set[str] = frozenset()) -> float:  # type: ignore[assignment]
    """The best alignment score of *query* over the lookup's candidates, below the match
    threshold too, leaving out the renders in *exclude*."""
    from reviewer.assets.fingerprints import PreparedQuery, align_coarse, align_fine
    from reviewer.services.fingerprints import load_index
    from reviewer.services.misuse import CANDIDATES, COARSE_MARGIN

    index = load_index(library)  # type: ignore[arg-type]
    d = index.hashes.distances(query.hash_array(), query.variant_array())  # type: ignore[attr-defined]
    keys = [index.hashes.keys[i] for i in np.argsort(d, kind="stable")
            if index.hashes.keys[i] not in exclude][:CANDIDATES]
    thumbs = index.thumbnails(keys)
    prepared = PreparedQuery(query)  # type: ignore[arg-type]
    coarse = [(sha, c) for sha in keys if (c := align_coarse(thumbs[sha], prepared))]
    if not coarse:
        return -1.0
    top = max(c.ncc for _, c in coarse)
    return max((a.score for sha, c in coarse if c.ncc >= top - COARSE_MARGIN
                and (a := align_fine(thumbs[sha], prepared, c)) is not None), default=-1.0)


def unseen(library: object, cases: list) -> None:
    """Each demo render against the library without it: what would match instead?"""
    from reviewer.services.misuse import MATCH_MIN_SCORE, found_image_from_bytes

    by_sha = defaultdict(set)
    for case in cases:
        by_sha[case.sha256].add(case.request_id)
    demo = [c for c in cases if not c.request_id.startswith("corpus-")]
    scores = []
    for case in demo:
        out = {sha for sha, requests in by_sha.items() if requests & case.expected}
        _found, query = found_image_from_bytes("q.png", case.data)
        scores.append(best_score(library, query, out))
    matched = sum(score >= MATCH_MIN_SCORE for score in scores)
    print(f"unseen renders (demo renders with every copy of their picture left out): "
          f"{matched}/{len(demo)} match a sibling render; best scores: median "
          f"{statistics.median(scores):.3f}, min {min(scores):.3f}, max {max(scores):.3f}")


def scale(root: Path, work: Path) -> None:
    import sqlalchemy as sa

    from reviewer.assets.fingerprints import (
        SCHEME,
        VARIANTS,
        HashIndex,
        fingerprint_query,
        grey_thumbnail,
        thumbnail_to_png,
    )
    from reviewer.services import fingerprints as fingerprint_service
    from reviewer.services.misuse import MisuseChecker
    from reviewer.storage.library import Library
    from reviewer.storage.schema import render_fingerprints

    rng = np.random.default_rng(7)
    query = fingerprint_query(_a_render(root))
    hashes, views = query.hash_array(), query.variant_array()
    # Synthetic renders get a noise thumbnail: a candidate among them costs a real alignment.
    filler = thumbnail_to_png(grey_thumbnail(noise(3, (96, 128))))
    print(f"\n{'fingerprints':>12}{'hash search':>14}{'load index':>13}{'whole check':>14}"
          f"{'index memory':>15}")
    for n in (1_000, 10_000, 100_000):
        keys = [f"{i:064x}" for i in range(n)]
        variants = rng.integers(0, 2**63, (n, VARIANTS, 2), dtype=np.int64).astype(np.uint64)
        index = HashIndex.build(list(zip(keys, variants, strict=True)))
        search = []
        for _ in range(15):
            started = time.perf_counter()
            index.nearest(hashes, limit=12, max_distance=64, variants=views)
            search.append(time.perf_counter() - started)
        # The same fingerprints in a library that also holds the demo renders.
        copy = work / f"scale-{n}"
        shutil.copytree(root, copy)
        with Library.open(copy) as library:
            with library.engine.begin() as conn:
                conn.execute(render_fingerprints.insert(), [
                    {"sha256": key, "scheme": SCHEME, "width": 900, "height": 1200,
                     "phash": f"{int(v[0, 0]):016x}", "dhash": f"{int(v[0, 1]):016x}",
                     "variants": v.astype(">u8").tobytes(), "thumbnail": filler,
                     "created_at": "2026-11-28T00:00:00Z"}
                    for key, v in zip(keys, variants, strict=True)
                ])
            loads, checks = [], []
            for _ in range(3):
                fingerprint_service._INDEXES.clear()
                started = time.perf_counter()
                fingerprint_service.load_index(library)
                loads.append(time.perf_counter() - started)
            checker = MisuseChecker(library)
            image = _a_render(copy)
            for _ in range(7):
                started = time.perf_counter()
                checker.check(image)
                checks.append(time.perf_counter() - started)
            with library.engine.connect() as conn:
                count = conn.execute(sa.select(sa.func.count()).select_from(
                    render_fingerprints)).scalar_one()
        memory = (index.phash.nbytes + index.dhash.nbytes) / 1e6
        print(f"{count:>12,}{statistics.median(search) * 1000:>11.1f} ms"
              f"{statistics.median(loads) * 1000:>10.0f} ms"
              f"{statistics.median(checks) * 1000:>11.0f} ms{memory:>12.1f} MB")
        shutil.rmtree(copy)


def _a_render(root: Path) -> Path:
    """A demo render, cropped and recompressed, written beside the library."""
    import sqlite3

    with sqlite3.connect(root / "library.db") as db:
        sha = db.execute("SELECT sha256 FROM assets WHERE role = 'render' AND request_id = "
                         "'ss27-denim-0043' ORDER BY position LIMIT 1").fetchone()[0]
    out = root.parent / f"{root.name}-query.png"
    image = Image.open(root / "objects" / sha[:2] / sha[2:])
    out.write_bytes(png_bytes(TRANSFORMS["crop 15% off-centre"](image)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", type=Path, help="an existing demo library to copy")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--quick", action="store_true", help="four transformations only")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-misuse-"))
    try:
        root = build_set(work, args.library)
        accuracy(root, quick=args.quick)
        scale(root, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
