"""The request package manifest (``request.json``), format 1, as a strict pydantic schema.

Unknown keys, wrong types, impossible dates and unsafe paths are errors. The schema knows
nothing of files on disk: whether a named file exists and decodes is checked by
``reviewer.assets.package``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

FORMAT_1 = "reviewer.use-request/1"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

AVATAR_SUFFIXES = frozenset({".glb", ".gltf", ".obj", ".ply", ".stl", ".vtp", ".vtk"})
UNTEXTURED_AVATAR_SUFFIXES = frozenset({".ply", ".stl", ".vtp", ".vtk"})
RENDER_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"})


class Channel(StrEnum):
    ECOMMERCE = "ecommerce"
    SOCIAL = "social"
    OOH = "ooh"
    PRINT = "print"
    VIDEO = "video"
    TV = "tv"


class AssetRole(StrEnum):
    AVATAR = "avatar"
    RENDER = "render"


Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Territory = Annotated[str, StringConstraints(pattern=r"^(?:[A-Z]{2}|EU|EEA|WW)$")]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9 _-]{0,39}$")]
Email = Annotated[
    str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$", max_length=254)
]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# Strict: an ISO date string only. Lax mode would also take a Unix timestamp (a number).
Date = Annotated[dt.date, Strict()]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


def check_relative_path(value: str) -> str:
    """Return *value* if it is a safe package-relative POSIX path, else raise ValueError."""
    if not value or "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError(f"path {value!r} is not a plain relative path")
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        raise ValueError(f"path {value!r} is absolute")
    parts = PurePosixPath(value).parts
    if (
        not parts
        or any(part in ("..", ".") for part in parts)
        or value != str(PurePosixPath(*parts))
    ):
        raise ValueError(f"path {value!r} is not normalised or escapes the package")
    return value


class Requester(_Strict):
    name: ShortText
    organisation: ShortText
    email: Email


class UseScope(_Strict):
    channels: Annotated[list[Channel], Field(min_length=1)]
    territories: Annotated[list[Territory], Field(min_length=1)]
    start: Date
    end: Date
    categories: list[Category] = Field(default_factory=list)
    voice: StrictBool = False  # lax mode would read "yes", "off" or 1 as a boolean

    @field_validator("channels", "territories", "categories")
    @classmethod
    def _no_duplicates(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists the same value twice")
        return value

    @model_validator(mode="after")
    def _end_after_start(self) -> UseScope:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Fee(_Strict):
    amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_is_text_or_number(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError('must be a decimal amount such as "1800.00"')
        return value


class AssetEntry(_Strict):
    path: str
    role: AssetRole
    label: ShortText
    sha256: Sha256Hex | None = None
    texture: str | None = None

    @field_validator("path", "texture")
    @classmethod
    def _safe_path(cls, value: str | None) -> str | None:
        return None if value is None else check_relative_path(value)

    @model_validator(mode="after")
    def _suffix_fits_role(self) -> AssetEntry:
        suffix = PurePosixPath(self.path).suffix.lower()
        allowed = AVATAR_SUFFIXES if self.role is AssetRole.AVATAR else RENDER_SUFFIXES
        if suffix not in allowed:
            kinds = ", ".join(sorted(allowed))
            article = "an" if self.role is AssetRole.AVATAR else "a"
            raise ValueError(f"{self.path}: {article} {self.role.value} must be one of {kinds}")
        if self.texture is not None:
            if self.role is not AssetRole.AVATAR or suffix not in UNTEXTURED_AVATAR_SUFFIXES:
                raise ValueError(
                    f"{self.path}: only a PLY, STL, VTP or VTK avatar may name a texture"
                )
            if PurePosixPath(self.texture).suffix.lower() not in RENDER_SUFFIXES:
                raise ValueError(f"{self.path}: texture {self.texture} is not an image")
        return self


class Manifest(_Strict):
    format: Literal["reviewer.use-request/1"]
    id: Identifier
    talent: Identifier
    requester: Requester
    campaign: ShortText
    brief: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    use: UseScope
    fee: Fee
    due: Date
    assets: Annotated[list[AssetEntry], Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _unique_paths(self) -> Manifest:
        seen: set[str] = set()
        for asset in self.assets:
            key = asset.path.casefold()
            if key in seen:
                raise ValueError(f"asset path {asset.path} is listed twice")
            seen.add(key)
        if not any(a.role is AssetRole.AVATAR for a in self.assets) and not any(
            a.role is AssetRole.RENDER for a in self.assets
        ):
            raise ValueError("a request needs at least one asset")
        return self


class ManifestError(ValueError):
    """A manifest that does not follow format 1; ``str()`` is one readable line."""


def parse_manifest(raw: bytes) -> Manifest:
    """Parse and validate manifest bytes (UTF-8 JSON) or raise :class:`ManifestError`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"not UTF-8 text (byte {exc.start})") from None
    duplicate = _first_duplicate_key(text)
    if duplicate is not None:
        # Parsers differ on which of two equal keys wins; refuse instead of guessing.
        raise ManifestError(f"key {duplicate!r} appears twice in one object")
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as exc:
        raise ManifestError(describe_validation_error(exc)) from None


def _first_duplicate_key(text: str) -> str | None:
    """The first key that an object of *text* holds twice, or None (also for invalid JSON)."""
    found: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen and not found:
                found.append(key)
            seen.add(key)
        return dict(items)

    try:
        json.loads(text, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return None  # the schema reports it
    return found[0] if found else None


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first few failing fields and why."""
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "document"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "json_invalid":
            msg = f"invalid JSON ({err.get('ctx', {}).get('error', 'syntax error')})"
        msg = msg.removeprefix("Value error, ")
        parts.append(f"{where}: {msg}")
    more = len(exc.errors()) - 3
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)
