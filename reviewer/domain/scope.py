"""The scope of a use (channels, territories, dates, ...) and the rule for narrowing it.

An approval may narrow what was requested, never widen it: a subset of the channels, the same
or smaller territories, an earlier end. Summaries in plain language are made here so that the
command line and the GUI say the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

CHANNEL_ORDER = ("ecommerce", "social", "ooh", "print", "video", "tv")
CHANNEL_LABELS = {
    "ecommerce": "e-commerce",
    "social": "social",
    "ooh": "out-of-home",
    "print": "print",
    "video": "video",
    "tv": "TV",
}

# Territories are ISO 3166-1 alpha-2 codes plus three groups. A group covers its members, so
# an approval may narrow "EU" to "FR" and a denied "FR" is touched by a requested "EU".
EU_MEMBERS = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    }
)
EEA_MEMBERS = EU_MEMBERS | {"IS", "LI", "NO", "EU"}
WORLDWIDE = "WW"

_TERRITORY_NAMES = {
    "EU": "the EU",
    "EEA": "the EEA",
    "WW": "worldwide",
    "GB": "the UK",
    "US": "the US",
    "AE": "the UAE",
    "NL": "the Netherlands",
    "CH": "Switzerland",
    "FR": "France",
    "DE": "Germany",
    "IT": "Italy",
    "ES": "Spain",
    "PT": "Portugal",
    "JP": "Japan",
    "CN": "China",
    "KR": "South Korea",
    "CA": "Canada",
    "AU": "Australia",
    "BR": "Brazil",
    "IN": "India",
    "MX": "Mexico",
    "NO": "Norway",
    "SE": "Sweden",
    "DK": "Denmark",
    "IE": "Ireland",
    "BE": "Belgium",
    "AT": "Austria",
    "PL": "Poland",
    "RU": "Russia",
}
# Not strftime("%b"): that follows the process locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥"}


class ScopeError(ValueError):
    """An approved scope that is not a narrowing of the requested one; one readable line."""


def covers(outer: str, inner: str) -> bool:
    """True when territory *outer* includes all of territory *inner*."""
    if outer in (inner, WORLDWIDE):
        return True
    if outer == "EEA":
        return inner in EEA_MEMBERS
    if outer == "EU":
        return inner in EU_MEMBERS
    return False


def overlaps(a: str, b: str) -> bool:
    """True when territories *a* and *b* share any ground."""
    return covers(a, b) or covers(b, a)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a use covers. Lists keep the order of the request; dates are inclusive."""

    channels: tuple[str, ...]
    territories: tuple[str, ...]
    start: dt.date
    end: dt.date
    categories: tuple[str, ...] = ()
    voice: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scope:
        return cls(
            channels=tuple(data["channels"]),
            territories=tuple(data["territories"]),
            start=dt.date.fromisoformat(data["start"]),
            end=dt.date.fromisoformat(data["end"]),
            categories=tuple(data.get("categories", ())),
            voice=bool(data.get("voice", False)),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "channels": list(self.channels),
            "territories": list(self.territories),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "categories": list(self.categories),
            "voice": self.voice,
        }

    @property
    def days(self) -> int:
        """Length of the period in days, both ends included."""
        return (self.end - self.start).days + 1

    def summary(self, fee: tuple[Decimal, str] | None = None) -> str:
        """One sentence, e.g. "Social and e-commerce in the EU and UK, 1 Feb – 31 Jul 2027,
        denim, no voice, €1,800"."""
        parts = [
            f"{channel_phrase(self.channels)} {territory_phrase(self.territories)}",
            date_range(self.start, self.end),
        ]
        if self.categories:
            parts.append(join_words(list(self.categories)))
        parts.append("with voice" if self.voice else "no voice")
        if fee is not None:
            parts.append(money(*fee))
        return ", ".join(parts)


def narrowing_problems(requested: Scope, approved: Scope) -> list[str]:
    """Every way in which *approved* is not a narrowing of *requested* (empty when it is)."""
    problems: list[str] = []
    if not approved.channels:
        problems.append("an approval needs at least one channel")
    if len(set(approved.channels)) != len(approved.channels):
        problems.append("a channel is listed twice")
    for channel in approved.channels:
        if channel not in requested.channels:
            problems.append(
                f"channel '{channel}' was not requested "
                f"(requested: {', '.join(requested.channels)})"
            )
    if not approved.territories:
        problems.append("an approval needs at least one territory")
    if len(set(approved.territories)) != len(approved.territories):
        problems.append("a territory is listed twice")
    for territory in approved.territories:
        if not any(covers(req, territory) for req in requested.territories):
            problems.append(
                f"territory '{territory}' lies outside the requested territories "
                f"({', '.join(requested.territories)})"
            )
    if approved.start != requested.start:
        problems.append(
            f"the start {approved.start} differs from the requested start {requested.start}"
        )
    if approved.end > requested.end:
        problems.append(f"the end {approved.end} is after the requested end {requested.end}")
    if approved.end < approved.start:
        problems.append(f"the end {approved.end} is before the start {approved.start}")
    if tuple(approved.categories) != tuple(requested.categories):
        problems.append("product categories cannot be changed by an approval")
    if approved.voice != requested.voice:
        problems.append("voice cannot be changed by an approval")
    return problems


def narrow(
    requested: Scope,
    *,
    channels: Sequence[str] | None = None,
    territories: Sequence[str] | None = None,
    end: dt.date | None = None,
) -> Scope:
    """The scope *requested* narrowed as given; raise :class:`ScopeError` if it would widen."""
    approved = Scope(
        channels=tuple(channels) if channels is not None else requested.channels,
        territories=tuple(territories) if territories is not None else requested.territories,
        start=requested.start,
        end=end if end is not None else requested.end,
        categories=requested.categories,
        voice=requested.voice,
    )
    problems = narrowing_problems(requested, approved)
    if problems:
        raise ScopeError("; ".join(problems))
    return approved


def is_narrowing(requested: Scope, approved: Scope) -> bool:
    return not narrowing_problems(requested, approved)


# Plain-language pieces -----------------------------------------------------------------


def join_words(words: Sequence[str]) -> str:
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]


def channel_phrase(channels: Iterable[str]) -> str:
    labels = [CHANNEL_LABELS.get(c, c) for c in channels]
    text = join_words(labels) or "no channel"
    return text[0].upper() + text[1:]


def territory_name(code: str) -> str:
    return _TERRITORY_NAMES.get(code, code)


def territory_phrase(territories: Sequence[str]) -> str:
    if WORLDWIDE in territories:
        return "worldwide"
    names: list[str] = []
    previous_had_article = False
    for code in territories:
        name = territory_name(code)
        has_article = name.startswith("the ")
        if has_article and previous_had_article:
            name = name.removeprefix("the ")
        names.append(name)
        previous_had_article = has_article
    return "in " + (join_words(names) or "no territory")


def date_range(start: dt.date, end: dt.date) -> str:
    if start == end:
        return short_date(start)
    if start.year == end.year:
        return f"{start.day} {_MONTHS[start.month - 1]} – {short_date(end)}"
    return f"{short_date(start)} – {short_date(end)}"


def short_date(day: dt.date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def money(amount: Decimal, currency: str) -> str:
    """€1,800 or €1,800.50 or 1,800 CHF."""
    quantised = amount.quantize(Decimal("0.01"))
    text = f"{quantised:,.2f}"
    if text.endswith(".00"):
        text = text[:-3]
    symbol = _CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"
