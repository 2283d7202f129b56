"""Perceptual fingerprints of renders, and finding a render again in an image from the wild.

Two stages, chosen by measurement (``bench/misuse.py``, docs/check-image.md):

1. **Hashes**, vectorised over the whole library. Every render gets a 64-bit pHash and a
   64-bit dHash (``imagehash``) of the whole image and of a grid of crops of it
   (:data:`CROP_BOXES`), so that an image cropped by up to 20 % is close to one of them. A
   found image is hashed as it is, with any flat frame around it trimmed, and each of those
   mirrored. The smallest pHash + dHash distance over all pairs (0–128 bits) ranks the
   renders and picks a few candidates.
2. **Alignment**, for those candidates only. 64-bit hashes cannot tell two studio renders of
   one pose apart: in the demo library a front and a back view of one outfit differ by fewer
   bits than JPEG at quality 8 changes. So every render also keeps a grey thumbnail; the found
   image is placed on it (scaled and shifted to sub-pixel accuracy, mirrored or not; or the
   thumbnail placed inside the found image, for a border or a screenshot) where the two
   correlate best, and the similarity there, of the images and of their fine detail, decides.

Everything here is computation on Pillow images and numpy arrays: no database, no Qt.
"""

from __future__ import annotations

import dataclasses
import io
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError
from scipy import fft as scipy_fft
from scipy.signal import fftconvolve

SCHEME = 1  # bump when anything below changes what is stored; rows of another are recomputed
WORK_LONG_SIDE = 384  # images are reduced to this before anything else: fast, and ample
THUMB_LONG_SIDE = 128  # the grey thumbnail kept for alignment
COARSE_LONG_SIDE = 40  # the first, coarse alignment search

# (left, top, right, bottom) as fractions of the width and height; the first is the whole
# image. Crops of 90 % and 80 % at the corners, edges and centre, and crops of one dimension
# only: an image cropped by up to 20 % lies within about 5 % of one of these.
CROP_BOXES: tuple[tuple[float, float, float, float], ...] = (
    (0.0, 0.0, 1.0, 1.0),
    *(
        (ox, oy, round(ox + size, 2), round(oy + size, 2))
        for size in (0.9, 0.8)
        for oy in (0.0, round((1 - size) / 2, 2), round(1 - size, 2))
        for ox in (0.0, round((1 - size) / 2, 2), round(1 - size, 2))
    ),
    *((ox, 0.0, round(ox + 0.8, 2), 1.0) for ox in (0.0, 0.1, 0.2)),
    *((0.0, oy, 1.0, round(oy + 0.8, 2)) for oy in (0.0, 0.1, 0.2)),
    *((ox, 0.0, round(ox + 0.9, 2), 1.0) for ox in (0.0, 0.1)),
    *((0.0, oy, 1.0, round(oy + 0.9, 2)) for oy in (0.0, 0.1)),
)
VARIANTS = len(CROP_BOXES)
HASH_BITS = 64


class FingerprintError(Exception):
    """An image that cannot be fingerprinted; ``str()`` says why in one line."""


# Reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkImage:
    """An image reduced for fingerprinting, and the size it had."""

    image: Image.Image  # RGB, longer side at most WORK_LONG_SIDE
    width: int
    height: int


def open_work_image(
    source: Path | bytes, *, max_pixels: int = 150_000_000, long_side: int = WORK_LONG_SIDE
) -> WorkImage:
    """Decode *source* (a path or bytes) reduced to about *long_side* pixels: EXIF orientation
    applied, transparency put on white. JPEGs are decoded at reduced size (DCT scaling).

    Raises :class:`FingerprintError` with the reason when it cannot be read.
    """
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(handle) as opened:
                width, height = opened.size
                if width <= 0 or height <= 0:
                    raise FingerprintError("has no pixels")
                if width * height > max_pixels:
                    raise FingerprintError(
                        f"is {width}×{height} pixels, over the limit of {max_pixels:,}"
                    )
                if _turned(opened):
                    width, height = height, width
                opened.draft("RGB", (long_side, long_side))
                img = _on_white(ImageOps.exif_transpose(opened))
                img.thumbnail((long_side, long_side), Image.Resampling.BOX)
                return WorkImage(img, width, height)
    except FingerprintError:
        raise
    except UnidentifiedImageError:
        raise FingerprintError(
            "is not an image that can be read (PNG, JPEG, WebP, TIFF…)"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FingerprintError("is too large to decode safely") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise FingerprintError(f"cannot be decoded: {exc or type(exc).__name__}") from None


def _turned(img: Image.Image) -> bool:
    try:
        return img.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    except (OSError, ValueError, SyntaxError):
        return False


def _on_white(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return img.convert("RGB")


# Hashes --------------------------------------------------------------------------------------


def hash_pair(img: Image.Image) -> tuple[int, int]:
    """(pHash, dHash) of *img*, 64 bits each, as unsigned integers (first bit highest)."""
    return _to_int(imagehash.phash(img)), _to_int(imagehash.dhash(img))


def _to_int(value: imagehash.ImageHash) -> int:
    return int("".join("1" if bit else "0" for bit in value.hash.flatten()), 2)


def crop(img: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    w, h = img.size
    left, top, right, bottom = box
    return img.crop((round(left * w), round(top * h), round(right * w), round(bottom * h)))


def variant_hashes(img: Image.Image) -> np.ndarray:
    """``(VARIANTS, 2)`` uint64: pHash and dHash of every crop in :data:`CROP_BOXES`."""
    return np.array([hash_pair(crop(img, box)) for box in CROP_BOXES], dtype=np.uint64)


def grey_thumbnail(img: Image.Image, long_side: int = THUMB_LONG_SIDE) -> np.ndarray:
    """``(h, w)`` uint8 with the longer side *long_side*: what alignment compares."""
    return np.asarray(_resized(img.convert("L"), long_side), dtype=np.uint8)


@dataclass(frozen=True)
class RenderFingerprint:
    """What is stored for one render (keyed by the SHA-256 of its bytes)."""

    width: int
    height: int
    variants: np.ndarray  # (VARIANTS, 2) uint64; row 0 is (pHash, dHash) of the whole image
    thumbnail: np.ndarray  # (h, w) uint8, longer side THUMB_LONG_SIDE

    @property
    def phash(self) -> int:
        return int(self.variants[0, 0])

    @property
    def dhash(self) -> int:
        return int(self.variants[0, 1])


def fingerprint_render(source: Path | bytes) -> RenderFingerprint:
    """Fingerprint a render (a path or its bytes); raises :class:`FingerprintError`."""
    work = open_work_image(source)
    return fingerprint_image(work)


def fingerprint_image(work: WorkImage) -> RenderFingerprint:
    return RenderFingerprint(
        work.width, work.height, variant_hashes(work.image), grey_thumbnail(work.image)
    )


def hex64(value: int) -> str:
    return f"{value:016x}"


def variants_to_bytes(variants: np.ndarray) -> bytes:
    """The stored form of the crop grid's hashes: big-endian uint64, pHash then dHash per
    crop, in the order of :data:`CROP_BOXES`."""
    return variants.astype(">u8").tobytes()


def variants_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=">u8").astype(np.uint64).reshape(-1, 2)


def thumbnail_to_png(thumb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(thumb, "L").save(out, "PNG", optimize=True)
    return out.getvalue()


def thumbnail_from_png(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("L"), dtype=np.uint8)


# Found images --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryView:
    """One way of looking at a found image, with its hashes: as it is, or a part of it (its
    frame trimmed, a corner crop); mirrored or not."""

    image: Image.Image
    mirrored: bool
    trimmed: bool  # a part of the image rather than all of it
    hashes: tuple[int, int]
    # The one crop of CROP_BOXES this view is compared with (a corner crop of the found image
    # meets the same corner crop of the render); None: every crop.
    variant: int | None = None


@dataclass(frozen=True)
class QueryPrint:
    width: int
    height: int
    views: tuple[QueryView, ...]

    def hash_array(self) -> np.ndarray:
        return np.array([v.hashes for v in self.views], dtype=np.uint64)

    def variant_array(self) -> list[int | None]:
        return [v.variant for v in self.views]

    @property
    def image(self) -> Image.Image:
        """The found image as it is (reduced)."""
        return self.views[0].image


def fingerprint_query(source: Path | bytes) -> QueryPrint:
    """Fingerprint a found image for lookup; raises :class:`FingerprintError`."""
    return query_print(open_work_image(source))


# Crops of the found image itself: a caption or a logo over a corner lies outside one of
# them, and each is also a crop the render was hashed at (CROP_BOXES), so the two meet.
QUERY_CROP_BOXES = ((0.0, 0.0, 0.8, 0.8), (0.2, 0.0, 1.0, 0.8), (0.0, 0.2, 0.8, 1.0),
                    (0.2, 0.2, 1.0, 1.0))
assert set(QUERY_CROP_BOXES) <= set(CROP_BOXES)


def query_print(work: WorkImage) -> QueryPrint:
    """The views of a found image that the lookup tries: as it is and its frame trimmed, each
    mirrored, and the four 80 % corner crops of each."""
    bases = [(work.image, False)]
    trimmed = trim_frame(work.image)
    if trimmed is not None:
        bases.append((trimmed, True))
    views = []
    for base, was_trimmed in bases:
        for mirrored in (False, True):
            view = ImageOps.mirror(base) if mirrored else base
            views.append(QueryView(view, mirrored, was_trimmed, hash_pair(view)))
    for base, _was_trimmed in bases:
        for box in QUERY_CROP_BOXES:
            view = crop(base, box)
            views.append(QueryView(view, False, True, hash_pair(view), CROP_BOXES.index(box)))
    return QueryPrint(work.width, work.height, tuple(views))


def trim_frame(img: Image.Image, *, tolerance: int = 10, flat_share: float = 0.9
               ) -> Image.Image | None:
    """*img* without a flat frame around it (a screenshot's window, a mount), or None.

    A side is trimmed line by line while the line is flat (``flat_share`` of its pixels within
    ``tolerance`` of its median colour); up to two bands of different colours go (a title bar
    and a border), and at most 40 % of either dimension.
    """
    a = np.asarray(img.convert("RGB"), dtype=np.int16)
    h, w, _ = a.shape
    if h < 16 or w < 16:
        return None

    def flat_colour(line: np.ndarray) -> np.ndarray | None:
        median = np.median(line, axis=0)
        within = (np.abs(line - median).max(axis=1) <= tolerance).mean()
        return median if within >= flat_share else None

    def depth(lines: Iterable[np.ndarray], limit: int) -> int:
        count, bands, colour = 0, 0, None
        for line in lines:
            if count >= limit:
                break
            c = flat_colour(line)
            if c is None:
                break
            if colour is None or np.abs(c - colour).max() > tolerance:
                bands += 1
                if bands > 2:
                    break
            colour = c
            count += 1
        return count

    top = depth((a[y] for y in range(h)), int(h * 0.4))
    bottom = depth((a[y] for y in range(h - 1, -1, -1)), int(h * 0.4))
    left = depth((a[:, x] for x in range(w)), int(w * 0.4))
    right = depth((a[:, x] for x in range(w - 1, -1, -1)), int(w * 0.4))
    if top + bottom + left + right == 0 or h - top - bottom < 8 or w - left - right < 8:
        return None
    return img.crop((left, top, w - right, h - bottom))


# Stage 1: hashes, vectorised -----------------------------------------------------------------


_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount64(values: np.ndarray) -> np.ndarray:
    """Bits set in each uint64: ``np.bitwise_count`` on numpy 2, a byte table before."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(values)
    as_bytes = np.ascontiguousarray(values).view(np.uint8).reshape(*values.shape, 8)
    return _BYTE_POPCOUNT[as_bytes].sum(axis=-1, dtype=np.uint8)


def _popcount_into(values: np.ndarray, out: np.ndarray) -> None:
    if hasattr(np, "bitwise_count"):
        np.bitwise_count(values, out=out)
    else:
        out[...] = popcount64(values)


@dataclass
class HashIndex:
    """Every render's crop-grid hashes in two arrays, for vectorised Hamming distances.

    ``keys[i]`` names the render of row *i*; ``phash`` and ``dhash`` are ``(n, VARIANTS)``.
    """

    keys: list[str]
    phash: np.ndarray = field(repr=False)
    dhash: np.ndarray = field(repr=False)

    @classmethod
    def build(cls, items: Sequence[tuple[str, np.ndarray]]) -> HashIndex:
        if not items:
            empty = np.zeros((0, VARIANTS), dtype=np.uint64)
            return cls([], empty, empty.copy())
        stacked = np.stack([v for _, v in items]).astype(np.uint64)
        return cls(
            [k for k, _ in items],
            np.ascontiguousarray(stacked[:, :, 0]),
            np.ascontiguousarray(stacked[:, :, 1]),
        )

    def __len__(self) -> int:
        return len(self.keys)

    def distances(self, query: np.ndarray, variants: Sequence[int | None] | None = None
                  ) -> np.ndarray:
        """For each render, the smallest pHash + dHash distance (0–128) between any query
        view (rows of *query*, ``(n, 2)`` uint64) and any of its crops; a view whose entry
        in *variants* is a number is compared with that crop only."""
        n = len(self.keys)
        best = np.full(n, 255, dtype=np.uint8)
        if n == 0:
            return best
        wide = np.empty(self.phash.shape, dtype=np.uint64)
        count = np.empty(self.phash.shape, dtype=np.uint8)
        total = np.empty(self.phash.shape, dtype=np.uint8)
        for row, (phash, dhash) in enumerate(query):
            only = None if variants is None else variants[row]
            if only is not None:
                d = popcount64(self.phash[:, only] ^ np.uint64(phash)).astype(np.uint8)
                d += popcount64(self.dhash[:, only] ^ np.uint64(dhash)).astype(np.uint8)
                np.minimum(best, d, out=best)
                continue
            np.bitwise_xor(self.phash, np.uint64(phash), out=wide)
            _popcount_into(wide, total)
            np.bitwise_xor(self.dhash, np.uint64(dhash), out=wide)
            _popcount_into(wide, count)
            total += count
            np.minimum(best, total.min(axis=1), out=best)
        return best

    def nearest(self, query: np.ndarray, *, limit: int, max_distance: int,
                variants: Sequence[int | None] | None = None) -> list[tuple[str, int]]:
        """Up to *limit* renders within *max_distance* bits, closest first."""
        d = self.distances(query, variants)
        if d.size == 0:
            return []
        if d.size > limit:
            part = np.argpartition(d, limit - 1)[:limit]
            order = part[np.argsort(d[part], kind="stable")]
        else:
            order = np.argsort(d, kind="stable")
        return [(self.keys[i], int(d[i])) for i in order if d[i] <= max_distance]


# Stage 2: alignment --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alignment:
    """Where a found image lies on a render, and how alike the two are there."""

    similarity: float  # normalised cross-correlation (NCC) of the grey images, -1..1
    detail: float  # NCC of their fine detail (a band-pass): what tells two poses apart
    mirrored: bool
    contains: bool  # True: the render lies inside the found image (a border, a screenshot)
    coverage: float  # share of the render that the found image shows, 0..1
    # Where the render's frame lies on the found image (mirrored first when ``mirrored``):
    # left, top, right, bottom as fractions of the found image's width and height. Beyond
    # 0..1 where the found image is a crop of the render.
    render_box: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)

    @property
    def score(self) -> float:
        """The mean of :attr:`similarity` and :attr:`detail`, -1..1; see docs/check-image.md
        for what the values mean."""
        return 0.5 * (self.similarity + self.detail)


_CROP_FRACTIONS = tuple(float(f) for f in np.linspace(0.74, 1.0, 7))
_BORDER_FRACTIONS = tuple(float(f) for f in np.linspace(0.64, 1.0, 8))


class PreparedQuery:
    """A found image readied for :func:`align` against many thumbnails: grey, mirrored, at
    the sizes the searches use; the coarse search's resized images, their spectra and window
    sums are kept, since thumbnails mostly share a size."""

    FINE_LONG_SIDE = 2 * THUMB_LONG_SIDE

    def __init__(self, query: QueryPrint) -> None:
        grey = query.image.convert("L")
        fine = _resized(grey, min(self.FINE_LONG_SIDE, max(grey.size)))
        self.fine = {False: fine, True: ImageOps.mirror(fine)}
        coarse = _resized(grey, 2 * COARSE_LONG_SIDE)
        self.coarse = {False: coarse, True: ImageOps.mirror(coarse)}
        self._cache: dict[tuple[object, ...], object] = {}

    def coarse_array(self, mirrored: bool, size: tuple[int, int]) -> np.ndarray:
        key = ("array", mirrored, size)
        if key not in self._cache:
            image = self.coarse[mirrored].resize(size, Image.Resampling.BOX)
            self._cache[key] = np.asarray(image, dtype=np.float64)
        return self._cache[key]  # type: ignore[return-value]

    def template_spectrum(self, mirrored: bool, size: tuple[int, int], shape: tuple[int, int]
                          ) -> tuple[np.ndarray, float] | None:
        """The conjugate spectrum (at *shape*) of the zero-mean coarse view at *size*, and its
        norm; None when it is flat."""
        key = ("template", mirrored, size, shape)
        if key not in self._cache:
            t = self.coarse_array(mirrored, size)
            t = t - t.mean()
            norm = float(np.sqrt((t * t).sum()))
            self._cache[key] = (np.conj(np.fft.rfft2(t, shape)), norm) if norm > 1e-3 else None
        return self._cache[key]  # type: ignore[return-value]

    def big_spectrum(self, mirrored: bool, size: tuple[int, int], shape: tuple[int, int]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The spectrum (at *shape*) of the coarse view at *size*, and its integral images."""
        key = ("big", mirrored, size, shape)
        if key not in self._cache:
            a = self.coarse_array(mirrored, size)
            self._cache[key] = (np.fft.rfft2(a, shape), *_integrals(a))
        return self._cache[key]  # type: ignore[return-value]


class _CoarseThumb:
    """A thumbnail at the coarse size, with its spectra and integral images."""

    def __init__(self, thumb: np.ndarray) -> None:
        self.array = np.asarray(_resized(Image.fromarray(thumb), COARSE_LONG_SIDE),
                                dtype=np.float64)
        self.shape = self.array.shape
        self.integrals = _integrals(self.array)
        self._spectra: dict[tuple[int, int], np.ndarray] = {}
        centred = self.array - self.array.mean()
        self.norm = float(np.sqrt((centred * centred).sum()))
        self._centred = centred

    def spectrum(self, shape: tuple[int, int]) -> np.ndarray:
        if shape not in self._spectra:
            self._spectra[shape] = np.fft.rfft2(self.array, shape)
        return self._spectra[shape]

    def centred_conj_spectrum(self, shape: tuple[int, int]) -> np.ndarray:
        key = (-shape[0], -shape[1])
        if key not in self._spectra:
            self._spectra[key] = np.conj(np.fft.rfft2(self._centred, shape))
        return self._spectra[key]


def _integrals(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = np.zeros((a.shape[0] + 1, a.shape[1] + 1))
    c[1:, 1:] = a.cumsum(0).cumsum(1)
    c2 = np.zeros_like(c)
    c2[1:, 1:] = (a * a).cumsum(0).cumsum(1)
    return c, c2


def _window(c: np.ndarray, h: int, w: int) -> np.ndarray:
    return c[h:, w:] - c[:-h, w:] - c[h:, :-w] + c[:-h, :-w]


def _peak(num: np.ndarray, integrals: tuple[np.ndarray, np.ndarray], size: tuple[int, int],
          norm: float) -> tuple[tuple[int, int], float]:
    """The best NCC from a correlation *num* over the valid offsets and the big image's
    integral images (windows of *size*, height first)."""
    (c, c2), (h, w) = integrals, size
    sums = _window(c, h, w)[: num.shape[0], : num.shape[1]]
    sums2 = _window(c2, h, w)[: num.shape[0], : num.shape[1]]
    var = np.maximum(sums2 - sums * sums / (h * w), 1e-3)
    ncc = num / (norm * np.sqrt(var))
    index = np.unravel_index(int(np.argmax(ncc)), ncc.shape)
    return (int(index[0]), int(index[1])), float(ncc[index])


@dataclass(frozen=True, slots=True)
class CoarseAlignment:
    """The first, coarse placement of a found image on a thumbnail."""

    ncc: float
    mirrored: bool
    contains: bool
    fraction: float
    placement: _Placement  # in the coarse view's and the coarse thumbnail's pixels
    alternative: CoarseAlignment | None = None  # the best clearly different placement


def align(thumb: np.ndarray, query: QueryPrint | PreparedQuery) -> Alignment | None:
    """The best placement of the found image (as it is or mirrored) on a render's grey
    thumbnail *thumb*, and the similarity there; None when nothing overlaps enough.

    :func:`align_coarse`, then :func:`align_fine`. Pass a :class:`PreparedQuery` when
    aligning one image on many renders.
    """
    prepared = query if isinstance(query, PreparedQuery) else PreparedQuery(query)
    coarse = align_coarse(thumb, prepared)
    return None if coarse is None else align_fine(thumb, prepared, coarse)


def align_coarse(thumb: np.ndarray, prepared: PreparedQuery) -> CoarseAlignment | None:
    """Search every scale that a crop of up to 26 % or a frame of up to 36 % allows, as it
    is and mirrored, at :data:`COARSE_LONG_SIDE` pixels, whole pixels apart.

    By FFT with the spectra kept: the thumbnail's once, the found image's once per size."""
    lib = _CoarseThumb(thumb)
    hl, wl = lib.shape
    found: list[CoarseAlignment] = []
    for mirrored in (False, True):
        qw, qh = prepared.coarse[mirrored].size
        # The found image is a crop of the render: slide it, shrunk, over the thumbnail.
        shape = (_fast(hl), _fast(wl))
        for frac in _CROP_FRACTIONS:
            size = _crop_size(hl, wl, qw, qh, frac)
            if size is None:
                continue
            tw, th = size
            spectrum = prepared.template_spectrum(mirrored, (tw, th), shape)
            if spectrum is None:
                continue
            conj, norm = spectrum
            num = np.fft.irfft2(lib.spectrum(shape) * conj, shape)[: hl - th + 1, : wl - tw + 1]
            (y, x), value = _peak(num, lib.integrals, (th, tw), norm)
            scale = qw / tw
            found.append(CoarseAlignment(value, mirrored, False, frac,
                                         _Placement(scale, -scale * x, -scale * y)))
        # The render lies inside the found image: slide the thumbnail over it, enlarged.
        if lib.norm < 1e-3:
            continue
        sizes = [(frac, _border_size(hl, wl, qw, qh, frac)) for frac in _BORDER_FRACTIONS]
        sizes = [(frac, size) for frac, size in sizes if size is not None]
        if not sizes:
            continue
        shape = (_fast(max(s[1] for _, s in sizes)), _fast(max(s[0] for _, s in sizes)))
        for frac, (tw, th) in sizes:
            big, c, c2 = prepared.big_spectrum(mirrored, (tw, th), shape)
            num = np.fft.irfft2(big * lib.centred_conj_spectrum(shape), shape)
            num = num[: th - hl + 1, : tw - wl + 1]
            (y, x), value = _peak(num, (c, c2), (hl, wl), lib.norm)
            scale = qw / tw
            found.append(CoarseAlignment(value, mirrored, True, frac,
                                         _Placement(scale, scale * x, scale * y)))
    if not found:
        return None
    best = max(found, key=lambda c: c.ncc)
    # The best of the clearly different placements: a logo or a frame can make a wrong scale
    # correlate best at this size.
    step = _CROP_FRACTIONS[1] - _CROP_FRACTIONS[0]
    others = [c for c in found if c.contains != best.contains
              or abs(c.fraction - best.fraction) > 1.5 * step]
    if others:
        best = dataclasses.replace(best, alternative=max(others, key=lambda c: c.ncc))
    return best


def _fast(n: int) -> int:
    return int(scipy_fft.next_fast_len(n, real=True))


def _crop_size(hl: int, wl: int, qw: int, qh: int, frac: float) -> tuple[int, int] | None:
    """The size a found image that is a crop covering *frac* of the render's height (or of
    its width, whichever binds) has on the render's thumbnail; None when impossible."""
    fy = frac
    fx = fy * (qw / qh) / (wl / hl)
    if fx > 1.0:
        fx, fy = 1.0, frac * (wl / hl) / (qw / qh)
    tw, th = round(fx * wl), round(fy * hl)
    if tw < 6 or th < 6 or tw > wl or th > hl or min(fx, fy) < 0.7:
        return None
    return tw, th


def _border_size(hl: int, wl: int, qw: int, qh: int, frac: float) -> tuple[int, int] | None:
    """The size to shrink a found image to so that the render's thumbnail covers *frac* of
    its width; None when the thumbnail would not fit in it."""
    tw = round(wl / frac)
    th = round(qh * tw / qw)
    if tw < wl or th < hl or th > 3 * hl:
        return None
    return tw, th


ALTERNATIVE_MARGIN = 0.1


def align_fine(thumb: np.ndarray, prepared: PreparedQuery, coarse: CoarseAlignment
               ) -> Alignment | None:
    """Around the coarse scale, place the found image on the whole thumbnail (whole pixels),
    nudge scale and offset to a quarter of a pixel, and measure the similarity there. A
    clearly different coarse placement that came close is tried too; the better one counts."""
    result = _align_fine(thumb, prepared, coarse)
    other = coarse.alternative
    if other is not None and other.ncc >= coarse.ncc - ALTERNATIVE_MARGIN:
        second = _align_fine(thumb, prepared, other)
        if second is not None and (result is None or second.score > result.score):
            result = second
    return result


def _align_fine(thumb: np.ndarray, prepared: PreparedQuery, coarse: CoarseAlignment
                ) -> Alignment | None:
    fine_lib = thumb.astype(np.float32)
    fractions = _BORDER_FRACTIONS if coarse.contains else _CROP_FRACTIONS
    step = fractions[1] - fractions[0]
    start: _Placement | None = None
    best, mirrored = -2.0, coarse.mirrored
    # Both ways round: at the coarse size a three-quarter view and its mirror image can
    # correlate alike.
    for flip in (False, True):
        for f in (coarse.fraction - step / 2, coarse.fraction, coarse.fraction + step / 2):
            found = _place(fine_lib, prepared.fine[flip], coarse.contains, f)
            if found is not None and found[0] > best:
                (best, start), mirrored = found, flip
    if start is None:
        return None
    view = prepared.fine[mirrored]
    placement = _refine(fine_lib, view, start)
    a, b = _overlap(fine_lib, view, placement)
    if a.size < 64:
        return None
    return Alignment(
        similarity=_ncc(a, b),
        detail=_ncc(_band_pass(a), _band_pass(b)),
        mirrored=mirrored,
        contains=coarse.contains,
        coverage=a.size / fine_lib.size,
        render_box=(
            placement.dx / view.width,
            placement.dy / view.height,
            (placement.scale * fine_lib.shape[1] + placement.dx) / view.width,
            (placement.scale * fine_lib.shape[0] + placement.dy) / view.height,
        ),
    )


def _resized(img: Image.Image, long_side: int) -> Image.Image:
    w, h = img.size
    scale = long_side / max(w, h)
    return img.resize((max(4, round(w * scale)), max(4, round(h * scale))),
                      Image.Resampling.BOX)


@dataclass(frozen=True, slots=True)
class _Placement:
    """Where the found image lies on the thumbnail: query = scale * thumbnail + (dx, dy)."""

    scale: float
    dx: float
    dy: float


def _place(lib: np.ndarray, query: Image.Image, contains: bool, frac: float
           ) -> tuple[float, _Placement] | None:
    """Best NCC of the grey *query* on *lib* at one scale and whole-pixel offsets, and where.

    ``contains=False``: the query is a crop of the render covering *frac* of its height (or
    of its width, whichever binds); ``contains=True``: the render covers *frac* of the
    query's width.
    """
    hl, wl = lib.shape
    qw, qh = query.size
    if not contains:
        size = _crop_size(hl, wl, qw, qh, frac)
        if size is None:
            return None
        tw, th = size
        template = np.asarray(query.resize((tw, th), Image.Resampling.BOX), dtype=np.float32)
        found = _ncc_peak(lib, template)
        if found is None:
            return None
        (y, x), value = found
        scale = qw / tw
        return value, _Placement(scale, -scale * x, -scale * y)
    size = _border_size(hl, wl, qw, qh, frac)
    if size is None:
        return None
    tw, th = size
    scale = qw / tw
    big = np.asarray(query.resize((tw, th), Image.Resampling.BOX), dtype=np.float32)
    found = _ncc_peak(big, lib)
    if found is None:
        return None
    (y, x), value = found
    return value, _Placement(scale, scale * x, scale * y)


def _ncc_peak(big: np.ndarray, template: np.ndarray) -> tuple[tuple[int, int], float] | None:
    """The offset of *template* inside *big* with the highest NCC (by FFT), and that NCC."""
    th, tw = template.shape
    t = template - template.mean()
    t_norm = float(np.sqrt((t * t).sum()))
    if t_norm < 1e-3:
        return None
    num = fftconvolve(big, t[::-1, ::-1], mode="valid")
    sums = _window_sums(big, th, tw)
    sums2 = _window_sums(big * big, th, tw)
    var = np.maximum(sums2 - sums * sums / (th * tw), 1e-3)
    ncc = num / (t_norm * np.sqrt(var))
    index = np.unravel_index(int(np.argmax(ncc)), ncc.shape)
    return (int(index[0]), int(index[1])), float(ncc[index])


def _window_sums(a: np.ndarray, h: int, w: int) -> np.ndarray:
    c = np.zeros((a.shape[0] + 1, a.shape[1] + 1), dtype=np.float64)
    c[1:, 1:] = a.cumsum(0).cumsum(1)
    return c[h:, w:] - c[:-h, w:] - c[h:, :-w] + c[:-h, :-w]


def _overlap(lib: np.ndarray, query: Image.Image, p: _Placement
             ) -> tuple[np.ndarray, np.ndarray]:
    """The thumbnail pixels the found image covers, and the found image resampled onto
    exactly those pixels (sub-pixel accurate: Pillow resizes from a fractional box)."""
    hl, wl = lib.shape
    qw, qh = query.size
    x0 = max(0, math.ceil(-p.dx / p.scale - 1e-6))
    y0 = max(0, math.ceil(-p.dy / p.scale - 1e-6))
    x1 = min(wl, math.floor((qw - p.dx) / p.scale + 1e-6))
    y1 = min(hl, math.floor((qh - p.dy) / p.scale + 1e-6))
    if x1 - x0 < 6 or y1 - y0 < 6:
        return np.zeros((1, 1), np.float32), np.zeros((1, 1), np.float32)
    box = (
        min(max(p.scale * x0 + p.dx, 0.0), qw),
        min(max(p.scale * y0 + p.dy, 0.0), qh),
        min(max(p.scale * x1 + p.dx, 0.0), qw),
        min(max(p.scale * y1 + p.dy, 0.0), qh),
    )
    resampled = query.resize((x1 - x0, y1 - y0), Image.Resampling.BOX, box=box)
    return lib[y0:y1, x0:x1], np.asarray(resampled, dtype=np.float32)


def _refine(lib: np.ndarray, query: Image.Image, start: _Placement) -> _Placement:
    """Nudge scale and offset, by halving steps from a pixel down to a quarter of one, while
    the correlation improves. A whole-pixel placement at one of a few scales leaves a
    misalignment that the fine-detail comparison would punish."""
    hl, wl = lib.shape
    best = start
    best_ncc = _ncc(*_overlap(lib, query, best))
    for shrink in (1.0, 0.5, 0.25):
        improved = True
        while improved:
            improved = False
            for axis in range(3):
                for sign in (-1.0, 1.0):
                    if axis == 0:  # scale about the centre of the thumbnail
                        delta = sign * 0.01 * best.scale * shrink
                        candidate = _Placement(
                            best.scale + delta, best.dx - delta * wl / 2, best.dy - delta * hl / 2
                        )
                    elif axis == 1:
                        candidate = _Placement(
                            best.scale, best.dx + sign * best.scale * shrink, best.dy
                        )
                    else:
                        candidate = _Placement(
                            best.scale, best.dx, best.dy + sign * best.scale * shrink
                        )
                    value = _ncc(*_overlap(lib, query, candidate))
                    if value > best_ncc + 1e-5:
                        best, best_ncc, improved = candidate, value, True
    return best


def _band_pass(a: np.ndarray) -> np.ndarray:
    """Detail at the scale of a face or a hand in a thumbnail; blind to pixel noise and to
    sub-pixel misalignment."""
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    fine = np.asarray(img.filter(ImageFilter.GaussianBlur(1.0)), dtype=np.float32)
    coarse = np.asarray(img.filter(ImageFilter.GaussianBlur(4.0)), dtype=np.float32)
    return fine - coarse


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 1e-6 else 0.0
