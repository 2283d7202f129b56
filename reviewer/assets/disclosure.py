"""Marking released images as showing a synthetic likeness (in the spirit of the EU AI Act's
marking duty for synthetic content), in a form machines read.

The mark is an XMP packet carrying IPTC's ``DigitalSourceType`` (trained algorithmic media)
and our own properties: talent, receipt id, request id and a plain sentence. PNG and JPEG get
it spliced in without touching the pixel data (PNG: ``iTXt`` chunks ``XML:com.adobe.xmp`` and
``Disclosure``; JPEG: an APP1 XMP segment and a COM comment), so the pixels stay exactly as
approved. WebP and TIFF are re-encoded losslessly by Pillow with the packet (WebP XMP chunk,
TIFF tag 700). An existing XMP packet is kept: our description is added to it.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from dataclasses import dataclass
from html import unescape
from xml.sax.saxutils import escape

from PIL import Image, TiffImagePlugin

NAMESPACE = "urn:twin-reviewer:ns:disclosure:1.0/"
DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
PNG_XMP_KEYWORD = "XML:com.adobe.xmp"
PNG_TEXT_KEYWORD = "Disclosure"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"


def _attribute(value: str) -> str:
    return escape(value, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


class DisclosureError(Exception):
    """The image could not be marked; ``str()`` is one line."""


@dataclass(frozen=True, slots=True)
class Disclosure:
    talent_id: str
    talent_name: str
    receipt_id: str
    request_id: str

    @property
    def text(self) -> str:
        return (
            f"Synthetic likeness of {self.talent_name} ({self.talent_id}): a digital twin, "
            f"used with consent under receipt {self.receipt_id} "
            f"(request {self.request_id})"
        )

    def description_element(self) -> str:
        fields = {
            "Iptc4xmpExt:DigitalSourceType": DIGITAL_SOURCE_TYPE,
            "twin:SyntheticLikeness": "True",
            "twin:TalentId": self.talent_id,
            "twin:TalentName": self.talent_name,
            "twin:ReceiptId": self.receipt_id,
            "twin:RequestId": self.request_id,
            "twin:Disclosure": self.text,
        }
        attributes = "\n    ".join(f'{k}="{_attribute(v)}"' for k, v in fields.items())
        return (
            f'<rdf:Description rdf:about=""\n'
            f'    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
            f'    xmlns:twin="{escape(NAMESPACE)}"\n    {attributes}/>'
        )

    def xmp_packet(self) -> str:
        return (
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            f"{self.description_element()}\n"
            "</rdf:RDF>\n</x:xmpmeta>\n"
            '<?xpacket end="w"?>'
        )

    def merged_into(self, existing: str | None) -> str:
        """*existing* XMP with our description added, or our own packet."""
        if existing and "</rdf:RDF>" in existing:
            head, tail = existing.rsplit("</rdf:RDF>", 1)
            return f"{head}{self.description_element()}\n</rdf:RDF>{tail}"
        return self.xmp_packet()


def mark_image(data: bytes, disclosure: Disclosure) -> tuple[bytes, str]:
    """*data* with the disclosure embedded, and how (``png-itxt``, ``jpeg-xmp``, ...)."""
    if data.startswith(_PNG_SIGNATURE):
        return _mark_png(data, disclosure), "png-itxt-xmp"
    if data.startswith(b"\xff\xd8"):
        return _mark_jpeg(data, disclosure), "jpeg-app1-xmp"
    return _mark_by_reencoding(data, disclosure)


# PNG ----------------------------------------------------------------------------------------


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, pos = [], len(_PNG_SIGNATURE)
    while pos < len(data):
        if pos + 8 > len(data):
            raise DisclosureError("PNG ends inside a chunk header")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise DisclosureError(f"PNG chunk {kind!r} runs past the end of the file")
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos = end
        if kind == b"IEND":
            break
    if not chunks or chunks[0][0] != b"IHDR":
        raise DisclosureError("PNG does not start with IHDR")
    return chunks


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def _itxt(keyword: str, text: str) -> bytes:
    return keyword.encode("latin-1") + b"\x00\x00\x00" + b"\x00" + b"\x00" + text.encode("utf-8")


def _itxt_text(body: bytes) -> tuple[str, str] | None:
    """(keyword, text) of an uncompressed iTXt chunk body."""
    keyword, _, rest = body.partition(b"\x00")
    if len(rest) < 2 or rest[0] != 0:
        return None
    _lang, _, rest = rest[2:].partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    try:
        return keyword.decode("latin-1"), text.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _mark_png(data: bytes, disclosure: Disclosure) -> bytes:
    chunks = _png_chunks(data)
    existing = None
    kept = []
    for kind, body in chunks:
        if kind == b"iTXt":
            parsed = _itxt_text(body)
            if parsed and parsed[0] == PNG_XMP_KEYWORD:
                existing = parsed[1]
                continue
        kept.append((kind, body))
    out = [_PNG_SIGNATURE]
    for index, (kind, body) in enumerate(kept):
        out.append(_png_chunk(kind, body))
        if index == 0:  # right after IHDR, where readers look for metadata first
            out.append(
                _png_chunk(b"iTXt", _itxt(PNG_XMP_KEYWORD, disclosure.merged_into(existing)))
            )
            out.append(_png_chunk(b"iTXt", _itxt(PNG_TEXT_KEYWORD, disclosure.text)))
    return b"".join(out)


# JPEG ---------------------------------------------------------------------------------------


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """Segments before the scan as (marker, whole segment bytes), and where the scan starts."""
    segments, pos = [], 2
    while True:
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise DisclosureError("JPEG header is damaged")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is entropy-coded data
            return segments, pos
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise DisclosureError("JPEG segment runs past the end of the file")
        segments.append((marker, data[pos:end]))
        pos = end


def _mark_jpeg(data: bytes, disclosure: Disclosure) -> bytes:
    segments, scan = _jpeg_segments(data)
    existing = None
    kept: list[tuple[int, bytes]] = []
    for marker, segment in segments:
        if marker == 0xE1 and segment[4:].startswith(_JPEG_XMP_HEADER):
            existing = segment[4 + len(_JPEG_XMP_HEADER) :].decode("utf-8", "replace")
            continue
        kept.append((marker, segment))
    xmp = _JPEG_XMP_HEADER + disclosure.merged_into(existing).encode("utf-8")
    comment = disclosure.text.encode("utf-8")
    if len(xmp) + 2 > 0xFFFF or len(comment) + 2 > 0xFFFF:
        raise DisclosureError("the disclosure does not fit in a JPEG segment")
    ours = (
        b"\xff\xe1"
        + struct.pack(">H", len(xmp) + 2)
        + xmp
        + b"\xff\xfe"
        + struct.pack(">H", len(comment) + 2)
        + comment
    )
    # JFIF (APP0) and Exif (APP1) must stay first; XMP follows them.
    split = 0
    while split < len(kept) and (
        kept[split][0] == 0xE0
        or (kept[split][0] == 0xE1 and kept[split][1][4:].startswith(b"Exif\x00"))
    ):
        split += 1
    head = b"".join(segment for _, segment in kept[:split])
    tail = b"".join(segment for _, segment in kept[split:])
    return b"\xff\xd8" + head + ours + tail + data[scan:]


# WebP and TIFF ------------------------------------------------------------------------------


def _mark_by_reencoding(data: bytes, disclosure: Disclosure) -> tuple[bytes, str]:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            out = io.BytesIO()
            if img.format == "WEBP":
                existing = img.info.get("xmp")
                packet = disclosure.merged_into(
                    existing.decode("utf-8", "replace") if isinstance(existing, bytes) else existing
                ).encode("utf-8")
                extra = {k: img.info[k] for k in ("icc_profile", "exif") if img.info.get(k)}
                img.save(out, "WEBP", lossless=True, quality=100, xmp=packet, **extra)
                return out.getvalue(), "webp-lossless-xmp"
            if img.format == "TIFF":
                existing = img.tag_v2.get(700)
                packet = disclosure.merged_into(
                    existing.decode("utf-8", "replace") if isinstance(existing, bytes) else existing
                ).encode("utf-8")
                info = TiffImagePlugin.ImageFileDirectory_v2()
                info[700] = packet
                info.tagtype[700] = 1  # BYTE, as XMP in TIFF is stored
                info[270] = disclosure.text  # ImageDescription
                extra = (
                    {"icc_profile": img.info["icc_profile"]} if img.info.get("icc_profile") else {}
                )
                img.save(out, "TIFF", tiffinfo=info, compression="tiff_adobe_deflate", **extra)
                return out.getvalue(), "tiff-xmp"
            raise DisclosureError(f"cannot mark a {img.format or 'unknown'} image")
    except DisclosureError:
        raise
    except (OSError, ValueError, SyntaxError) as exc:
        raise DisclosureError(f"cannot be re-encoded with its disclosure ({exc})") from None


# Reading it back ----------------------------------------------------------------------------

_PROPERTY = re.compile(r'twin:(\w+)="([^"]*)"')


def read_disclosure(data: bytes) -> dict[str, str]:
    """Our properties (``ReceiptId``, ``TalentId``, ...) from an image's XMP, read with
    Pillow the way any tool would; empty when there are none."""
    with Image.open(io.BytesIO(data)) as img:
        packet = (
            img.info.get("xmp")
            or img.info.get(PNG_XMP_KEYWORD)
            or (img.tag_v2.get(700) if img.format == "TIFF" else None)
        )
    if isinstance(packet, bytes):
        packet = packet.decode("utf-8", "replace")
    if not packet:
        return {}
    return {name: unescape(value) for name, value in _PROPERTY.findall(packet)}
