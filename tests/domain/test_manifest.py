"""The request manifest, format 1: what the schema accepts, what it refuses and how it says so."""

from __future__ import annotations

import datetime as dt
import json
import os.path
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from package_factory import base_manifest

from reviewer.domain.manifest import (
    AssetRole,
    Channel,
    ManifestError,
    check_relative_path,
    parse_manifest,
)


def parse(document: Any) -> Any:
    return parse_manifest(json.dumps(document).encode())


def test_the_design_example_parses_into_typed_values() -> None:
    manifest = parse(base_manifest())
    assert manifest.id == "ss27-denim-0042"
    assert manifest.use.channels == [Channel.ECOMMERCE, Channel.SOCIAL]
    assert manifest.use.start == dt.date(2027, 2, 1)
    assert manifest.due == dt.date(2026, 12, 15)
    assert manifest.fee.amount == Decimal("1800.00")
    assert [a.role for a in manifest.assets] == [AssetRole.AVATAR, AssetRole.RENDER]


def test_optional_fields_take_their_defaults() -> None:
    document = base_manifest()
    del document["use"]["categories"]
    del document["use"]["voice"]
    manifest = parse(document)
    assert manifest.use.categories == []
    assert manifest.use.voice is False
    assert manifest.assets[0].sha256 is None and manifest.assets[0].texture is None


def test_a_fee_may_be_a_json_number() -> None:
    assert parse(base_manifest(fee={"amount": 250, "currency": "GBP"})).fee.amount == 250


def test_suffixes_are_matched_without_case() -> None:
    document = base_manifest(
        assets=[
            {
                "path": "twin/LOOK.PLY",
                "role": "avatar",
                "label": "Look",
                "texture": "twin/SKIN.JPG",
            },
            {"path": "renders/FRONT.Png", "role": "render", "label": "Front"},
        ]
    )
    assert len(parse(document).assets) == 2


def test_a_ply_avatar_may_name_a_texture() -> None:
    document = base_manifest()
    document["assets"][0]["texture"] = "twin/skin.png"
    assert parse(document).assets[0].texture == "twin/skin.png"


def _use(**changes: Any) -> Callable[[dict], None]:
    return lambda d: d["use"].update(changes)


def _top(**changes: Any) -> Callable[[dict], None]:
    return lambda d: d.update(changes)


def _asset(**changes: Any) -> Callable[[dict], None]:
    return lambda d: d["assets"][0].update(changes)


def _drop(*path: str) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        for key in path[:-1]:
            document = document[key]
        del document[path[-1]]

    return change


REFUSED = [
    ("unknown top-level key", _top(colour="blue"), "colour: unknown key"),
    ("unknown key in use", _use(perpetual=True), "use.perpetual: unknown key"),
    ("unknown key in fee", lambda d: d["fee"].update(vat="20"), "fee.vat: unknown key"),
    (
        "unknown key in requester",
        lambda d: d["requester"].update(phone="1"),
        "requester.phone: unknown key",
    ),
    ("unknown key in an asset", _asset(thumb="x.png"), "assets.0.thumb: unknown key"),
    ("missing id", _drop("id"), "id: Field required"),
    ("missing use.end", _drop("use", "end"), "use.end: Field required"),
    ("format 2", _top(format="reviewer.use-request/2"), "format:"),
    ("id with a space", _top(id="ss27 denim"), "id:"),
    ("id starting with a dot", _top(id=".hidden"), "id:"),
    ("id of 65 characters", _top(id="a" * 65), "id:"),
    ("id with a trailing newline", _top(id="ss27\n"), "id:"),
    ("talent as a number", _top(talent=7), "talent:"),
    ("voice as a string", _use(voice="yes"), "use.voice:"),
    ("voice as a number", _use(voice=1), "use.voice:"),
    ("channels as a string", _use(channels="social"), "use.channels:"),
    ("no channels", _use(channels=[]), "use.channels:"),
    ("unknown channel", _use(channels=["radio"]), "use.channels.0:"),
    ("channel in capitals", _use(channels=["Social"]), "use.channels.0:"),
    ("a channel twice", _use(channels=["tv", "tv"]), "use.channels: lists the same value twice"),
    ("territory in lower case", _use(territories=["gb"]), "use.territories.0:"),
    ("territory of three letters", _use(territories=["GBR"]), "use.territories.0:"),
    ("category in capitals", _use(categories=["Denim"]), "use.categories.0:"),
    ("February 30", _use(start="2027-02-30"), "use.start:"),
    ("day-first date", _top(due="15/12/2026"), "due:"),
    ("date with a time", _top(due="2026-12-15T10:00:00"), "due:"),
    ("date as a Unix timestamp", _top(due=1_765_756_800), "due:"),
    ("end before start", _use(start="2027-08-01"), "end 2027-07-31 is before start 2027-08-01"),
    ("negative fee", lambda d: d["fee"].update(amount="-0.01"), "fee.amount:"),
    ("fee with three decimals", lambda d: d["fee"].update(amount="10.005"), "fee.amount:"),
    ("fee as a boolean", lambda d: d["fee"].update(amount=True), "fee.amount:"),
    ("fee not a number", lambda d: d["fee"].update(amount="NaN"), "fee.amount:"),
    ("fee as words", lambda d: d["fee"].update(amount="a lot"), "fee.amount:"),
    ("currency in lower case", lambda d: d["fee"].update(currency="eur"), "fee.currency:"),
    ("currency symbol", lambda d: d["fee"].update(currency="€"), "fee.currency:"),
    ("bad e-mail", lambda d: d["requester"].update(email="mara"), "requester.email:"),
    ("blank campaign", _top(campaign="   "), "campaign:"),
    ("campaign over 200 characters", _top(campaign="x" * 201), "campaign:"),
    ("no assets", _top(assets=[]), "assets:"),
    ("unknown role", _asset(role="video"), "assets.0.role:"),
    ("sha256 in capitals", _asset(sha256="A" * 64), "assets.0.sha256:"),
    (
        "render with a mesh suffix",
        lambda d: d["assets"][1].update(path="renders/a.glb"),
        "a render must be one of",
    ),
    ("avatar with an image suffix", _asset(path="twin/look1.png"), "an avatar must be one of"),
    ("avatar without a suffix", _asset(path="twin/look1"), "an avatar must be one of"),
    (
        "texture on a GLB",
        _asset(path="twin/look1.glb", texture="skin.png"),
        "only a PLY, STL, VTP or VTK avatar may name a texture",
    ),
    (
        "texture on an OBJ",
        _asset(path="twin/look1.obj", texture="skin.png"),
        "only a PLY, STL, VTP or VTK avatar may name a texture",
    ),
    (
        "texture on a render",
        lambda d: d["assets"][1].update(texture="skin.png"),
        "may name a texture",
    ),
    (
        "texture that is not an image",
        _asset(texture="skin.txt"),
        "texture skin.txt is not an image",
    ),
    ("texture outside the package", _asset(texture="../skin.png"), "assets.0.texture:"),
    ("asset path with ..", _asset(path="../look1.ply"), "escapes the package"),
    ("absolute asset path", _asset(path="/tmp/look1.ply"), "is absolute"),
    ("asset path with a newline", _asset(path="twin/a\nb.ply"), "not a plain relative path"),
    (
        "duplicate asset paths",
        lambda d: d["assets"].append(dict(d["assets"][1])),
        "asset path renders/look1-front.png is listed twice",
    ),
    (
        "asset paths equal but for case",
        lambda d: d["assets"].append({**d["assets"][1], "path": "RENDERS/look1-front.png"}),
        "listed twice",
    ),
]


@pytest.mark.parametrize(("change", "expected"), [pytest.param(c, e, id=i) for i, c, e in REFUSED])
def test_schema_refuses(change: Callable[[dict], None], expected: str) -> None:
    document = base_manifest()
    change(document)
    with pytest.raises(ManifestError) as caught:
        parse(document)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message.strip() or "\\n" in json.dumps(message)


def test_unknown_keys_are_called_unknown_keys() -> None:
    with pytest.raises(ManifestError, match=r"^surprise: unknown key$"):
        parse(base_manifest(surprise=1))


def test_many_errors_are_summarised_on_one_line() -> None:
    with pytest.raises(ManifestError) as caught:
        parse({"format": "reviewer.use-request/1"})
    message = str(caught.value)
    assert "\n" not in message
    assert message.count("Field required") == 3
    assert message.endswith("more")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(b"\xff\xfe{}", "not UTF-8", id="utf16-bom"),
        pytest.param('{"campaign": "Été"}'.encode("latin-1"), "not UTF-8", id="latin1"),
        pytest.param(b'{"format": ', "invalid JSON", id="truncated"),
        pytest.param(b"", "invalid JSON", id="empty"),
        pytest.param(b"[]", "document: Input should be an object", id="array"),
        pytest.param(b'"reviewer.use-request/1"', "document:", id="string"),
    ],
)
def test_bytes_that_are_not_a_json_object(raw: bytes, expected: str) -> None:
    with pytest.raises(ManifestError, match=expected):
        parse_manifest(raw)


def test_a_key_given_twice_is_refused() -> None:
    text = json.dumps(base_manifest())
    # Which "fee" would win differs between JSON parsers; the schema must not pick one.
    twice = text.replace('"fee": ', '"fee": {"amount": "1.00", "currency": "EUR"}, "fee": ', 1)
    assert json.loads(twice)["fee"]["amount"] == "1800.00"  # Python's parser keeps the last
    with pytest.raises(ManifestError, match="'fee' appears twice"):
        parse_manifest(twice.encode())


def test_a_nested_key_given_twice_is_refused() -> None:
    text = json.dumps(base_manifest()).replace('"voice": false', '"voice": false, "voice": true')
    with pytest.raises(ManifestError, match="'voice' appears twice"):
        parse_manifest(text.encode())


def test_the_same_key_in_different_objects_is_fine() -> None:
    # "path" and "label" appear once in each asset; "name" in requester only.
    assert parse_manifest(json.dumps(base_manifest()).encode()).id == "ss27-denim-0042"


# --- Package-relative paths -------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "a.png",
        "renders/a.png",
        "a/b/c/d.glb",
        "Ünï cødé/ä.png",
        "x..y.png",
        "..a",
        "a..",
        ".hidden/a.png",
    ],
)
def test_plain_relative_paths_are_accepted(path: str) -> None:
    assert check_relative_path(path) == path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/etc/passwd",
        "//server/share",
        "../a",
        "a/../../b",
        "a/..",
        "..",
        ".",
        "./a",
        "a/./b",
        "a//b",
        "a/",
        "C:/x",
        "c:x",
        "a\\b",
        "..\\a",
        "a\x00b",
        "a\nb",
        "a\rb",
        "a\tb",
        "a\x7fb",
    ],
)
def test_unsafe_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match=r"path .* (absolute|not)"):
        check_relative_path(path)


@given(st.text(alphabet=st.sampled_from(list("ab./\\:\x00\n C")), max_size=12))
def test_an_accepted_path_never_leaves_its_root(path: str) -> None:
    try:
        check_relative_path(path)
    except ValueError:
        return
    root = "/pkg/root"
    joined = os.path.normpath(os.path.join(root, path))
    assert joined.startswith(root + "/")
    assert "\\" not in path and "\x00" not in path and "\n" not in path
    assert os.path.normpath(path) == path  # already in the one normal form


def test_a_duplicate_among_many_keys_is_found_quickly() -> None:
    import time

    # 50,000 keys and one repeat fit under the 1 MiB manifest limit; a quadratic search for
    # the repeat would take minutes.
    raw = ("{" + ",".join(f'"k{i}":0' for i in range(50_000)) + ',"k7":1}').encode()
    started = time.monotonic()
    with pytest.raises(ManifestError, match="'k7' appears twice"):
        parse_manifest(raw)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000],
    ids=["deep-list", "deep-object"],
)
def test_deep_nesting_is_refused_not_a_crash(raw: bytes) -> None:
    with pytest.raises(ManifestError, match="invalid JSON"):
        parse_manifest(raw)
