"""Validating campaign images and making small versions of them."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 150_000_000  # a 150-megapixel render is generous; bombs are far larger
MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "TIFF": "image/tiff"}


class ImageError(Exception):
    """An image that cannot be accepted; ``str()`` is one line with the reason."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    format: str
    media_type: str
    width: int
    height: int
    mode: str


def inspect_image(path: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Open *path*, check its size against *max_pixels* before decoding, then decode it fully.

    Raises :class:`ImageError` for anything that is not a whole PNG, JPEG, WebP or TIFF.
    """
    try:
        with warnings.catch_warnings():
            # Our own cap, checked below before any decoding, is the one that counts;
            # Pillow's softer warning threshold would otherwise refuse smaller images.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.format not in MEDIA_TYPES:
                    kind = f"a {img.format}" if img.format else "an unknown kind of"
                    raise ImageError(f"is {kind} image; expected PNG, JPEG, WebP or TIFF")
                width, height = img.size
                if width <= 0 or height <= 0:
                    raise ImageError("has no pixels")
                if width * height > max_pixels:
                    raise ImageError(
                        f"is {width}×{height} = {width * height:,} pixels, over the limit of "
                        f"{max_pixels:,} (a decompression bomb?)"
                    )
                info = ImageInfo(img.format, MEDIA_TYPES[img.format], width, height, img.mode)
                img.load()
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError("is not an image Pillow can read") from None
    except Image.DecompressionBombError:
        # Pillow refuses outright beyond twice its own limit, before we could read the size.
        raise ImageError(
            f"is over the limit of {max_pixels:,} pixels (a decompression bomb?)"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        reason = str(exc) or type(exc).__name__
        raise ImageError(f"cannot be decoded: {reason}") from None
    return info


def open_display_image(path: Path, *, max_size: tuple[int, int] | None = None) -> Image.Image:
    """Decode for display: EXIF orientation applied, ICC profile converted to sRGB, RGB(A).

    With *max_size*, JPEGs are decoded at reduced size (DCT scaling) before resizing, which is
    several times faster than a full decode.
    """
    with Image.open(path) as img:
        if max_size is not None:
            img.draft("RGB", max_size)
        out = ImageOps.exif_transpose(img)
        out = _to_srgb(out)
        if max_size is not None:
            out.thumbnail(max_size, Image.Resampling.LANCZOS)
        return out


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(img: Image.Image) -> Image.Image:
    icc = img.info.get("icc_profile")
    has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
    target_mode = "RGBA" if has_alpha else "RGB"
    if icc:
        try:
            import io

            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            base = img.convert("RGBA" if has_alpha else "RGB") if img.mode not in (
                "RGB", "RGBA", "CMYK") else img
            converted = ImageCms.profileToProfile(
                base, source, _SRGB, outputMode=target_mode if base.mode != "CMYK" else "RGB"
            )
            if converted is not None:
                return converted.convert(target_mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: show the pixels as they are rather than nothing
    return img.convert(target_mode)


def cached_thumbnail(source: Path, cache_dir: Path, key: str, size: int = 96) -> Path:
    """A JPEG thumbnail of *source* (at most *size* pixels a side), made once and kept in
    *cache_dir* under *key* (the source's SHA-256): campaign images are never decoded at
    full size just to be shown small."""
    target = cache_dir / key[:2] / f"{key}-{size}.jpg"
    if target.exists():
        return target
    img = open_display_image(source, max_size=(size, size))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    img.convert("RGB").save(tmp, "JPEG", quality=85)
    os.replace(tmp, target)
    return target
