"""Canonical JSON: the one byte form that hashes and signatures are computed over.

Keys sorted, no insignificant white space, UTF-8, no NaN or infinities. For the documents we
sign (strings, integers, booleans, null, lists and objects; no floats) this is the same byte
string as RFC 8785 (JSON Canonicalization Scheme) produces.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(document: Any) -> bytes:
    """Serialise *document* canonically; floats are refused so the form stays RFC 8785."""
    _refuse_floats(document)
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("canonical documents carry no floats; use a decimal string")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("canonical documents have string keys only")
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)
