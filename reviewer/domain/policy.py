"""Standing terms (a talent's consent policy) and the check of a request against them.

The terms are a strict JSON document (format ``reviewer.standing-terms/1``); unknown keys and
wrong types are errors. :func:`check_request` gives findings in plain language, each ``ok``,
``warning`` or ``violation``. Approving a request with a violation needs an explicit override,
which the receipt records.

Fees: the overall minimum is a floor for the whole use; per-channel minimums add up over the
channels requested (a use on social and out-of-home owes both). The fee must reach the larger
of the two. Amounts in another currency cannot be compared (no exchange rates): a warning.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from reviewer.domain.manifest import (
    Category,
    Channel,
    Territory,
    describe_validation_error,
)
from reviewer.domain.scope import (
    CHANNEL_LABELS,
    Scope,
    channel_phrase,
    covers,
    money,
    overlaps,
    short_date,
    territory_name,
)

POLICY_FORMAT = "reviewer.standing-terms/1"
# Strict: an ISO date string only (lax mode would take a Unix timestamp too).
Date = Annotated[dt.date, Strict()]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Money(_Strict):
    amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_is_text_or_number(cls, value: object) -> object:
        if isinstance(value, bool | float):
            raise ValueError('must be a decimal amount written as text, such as "1800.00"')
        return value


class LongestTerm(_Strict):
    """Exactly one of ``days`` or ``months``."""

    days: int | None = Field(default=None, ge=1, le=36_500, strict=True)
    months: int | None = Field(default=None, ge=1, le=1_200, strict=True)

    @model_validator(mode="after")
    def _one_unit(self) -> LongestTerm:
        if (self.days is None) == (self.months is None):
            raise ValueError("give either days or months")
        return self

    def text(self) -> str:
        if self.days is not None:
            return f"{self.days} day{'s' if self.days != 1 else ''}"
        return f"{self.months} month{'s' if self.months != 1 else ''}"

    def last_day(self, start: dt.date) -> dt.date:
        """The last day a use starting on *start* may run to."""
        if self.days is not None:
            return start + dt.timedelta(days=self.days - 1)
        assert self.months is not None
        return add_months(start, self.months) - dt.timedelta(days=1)


class Policy(_Strict):
    """A talent's standing terms. A field left out places no limit."""

    format: Literal["reviewer.standing-terms/1"]
    channels_allowed: list[Channel] | None = None
    territories_allowed: list[Territory] | None = None
    territories_denied: list[Territory] = Field(default_factory=list)
    categories_never: list[Category] = Field(default_factory=list)
    voice_allowed: StrictBool = True  # lax mode would read "no" or 0 as a boolean
    longest_term: LongestTerm | None = None
    minimum_fee: Money | None = None
    minimum_fee_per_channel: dict[Channel, Money] = Field(default_factory=dict)
    terms_end: Date | None = None

    @field_validator(
        "channels_allowed", "territories_allowed", "territories_denied", "categories_never"
    )
    @classmethod
    def _no_duplicates(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists the same value twice")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        for allowed in self.territories_allowed or ():
            if allowed in self.territories_denied:
                raise ValueError(f"territory {allowed} is both allowed and denied")
        currencies = {m.currency for m in self.minimum_fee_per_channel.values()}
        if self.minimum_fee is not None:
            currencies.add(self.minimum_fee.currency)
        if len(currencies) > 1:
            raise ValueError(
                f"minimum fees must all be in one currency (found {', '.join(sorted(currencies))})"
            )
        return self

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", exclude_none=True)


class PolicyFormatError(ValueError):
    """Standing terms that do not follow the format; ``str()`` is one readable line."""


def parse_policy(raw: bytes | str) -> Policy:
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    try:
        return Policy.model_validate_json(text)
    except ValidationError as exc:
        raise PolicyFormatError(describe_validation_error(exc)) from None


class FindingLevel(StrEnum):
    OK = "ok"
    WARNING = "warning"
    VIOLATION = "violation"


@dataclass(frozen=True, slots=True)
class Finding:
    level: FindingLevel
    rule: str  # channels, territories, categories, voice, term, fee, terms_end, policy
    text: str

    def to_json(self) -> dict[str, str]:
        return {"level": self.level.value, "rule": self.rule, "text": self.text}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Finding:
        return cls(FindingLevel(data["level"]), data["rule"], data["text"])


def violations(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level is FindingLevel.VIOLATION]


def check_request(
    policy: Policy | None,
    scope: Scope,
    fee: tuple[Decimal, str],
    *,
    today: dt.date,
) -> list[Finding]:
    """Findings for a use of *scope* at *fee* against *policy*, in a fixed rule order."""
    if policy is None:
        return [
            Finding(
                FindingLevel.OK,
                "policy",
                "You have not set standing terms, so there is nothing to check",
            )
        ]
    findings: list[Finding] = []
    findings += _check_channels(policy, scope)
    findings += _check_territories(policy, scope)
    findings += _check_categories(policy, scope)
    findings += _check_voice(policy, scope)
    findings += _check_term(policy, scope)
    findings += _check_fee(policy, scope, fee)
    findings += _check_terms_end(policy, scope, today)
    return findings


def _ok(rule: str, text: str) -> Finding:
    return Finding(FindingLevel.OK, rule, text)


def _violation(rule: str, text: str) -> Finding:
    return Finding(FindingLevel.VIOLATION, rule, text)


def _warning(rule: str, text: str) -> Finding:
    return Finding(FindingLevel.WARNING, rule, text)


def _check_channels(policy: Policy, scope: Scope) -> list[Finding]:
    if policy.channels_allowed is None:
        return []
    allowed = {c.value for c in policy.channels_allowed}
    out = [
        _violation("channels", f"Channel '{c}' is not among the channels you allow")
        for c in scope.channels
        if c not in allowed
    ]
    return out or [
        _ok("channels", f"{channel_phrase(scope.channels)}: among the channels you allow")
    ]


def _check_territories(policy: Policy, scope: Scope) -> list[Finding]:
    out: list[Finding] = []
    for territory in scope.territories:
        for denied in policy.territories_denied:
            if territory == denied:
                out.append(
                    _violation("territories", f"Territory '{territory}' is one you never allow")
                )
            elif overlaps(territory, denied):
                out.append(
                    _violation(
                        "territories",
                        f"Territory '{territory}' ({territory_name(territory)}) includes "
                        f"'{denied}' ({territory_name(denied)}), which you never allow"
                        if covers(territory, denied)
                        else f"Territory '{territory}' lies within '{denied}' "
                        f"({territory_name(denied)}), which you never allow",
                    )
                )
        if policy.territories_allowed is not None and not any(
            covers(allowed, territory) for allowed in policy.territories_allowed
        ):
            out.append(
                _violation(
                    "territories", f"Territory '{territory}' is not among the territories you allow"
                )
            )
    if out or (policy.territories_allowed is None and not policy.territories_denied):
        return out
    return [_ok("territories", "Every territory is within your terms")]


def _check_categories(policy: Policy, scope: Scope) -> list[Finding]:
    if not policy.categories_never:
        return []
    out = [
        _violation("categories", f"Category '{c}' is one you never accept")
        for c in scope.categories
        if c in policy.categories_never
    ]
    return out or [_ok("categories", "No product category you refuse")]


def _check_voice(policy: Policy, scope: Scope) -> list[Finding]:
    if policy.voice_allowed:
        return []
    if scope.voice:
        return [_violation("voice", "The use includes your voice, which you do not allow")]
    return [_ok("voice", "No voice, as your terms require")]


def _check_term(policy: Policy, scope: Scope) -> list[Finding]:
    term = policy.longest_term
    if term is None:
        return []
    last = term.last_day(scope.start)
    if scope.end > last:
        return [
            _violation(
                "term",
                f"The use runs {scope.days} days ({short_date(scope.start)} to "
                f"{short_date(scope.end)}), longer than your longest term of {term.text()}",
            )
        ]
    return [
        _ok("term", f"The use runs {scope.days} days, within your longest term of {term.text()}")
    ]


def required_fee(policy: Policy, channels: tuple[str, ...]) -> tuple[Decimal, str] | None:
    """The least fee *policy* accepts for a use on *channels*, or None when it sets none."""
    per_channel = [
        policy.minimum_fee_per_channel[Channel(c)]
        for c in channels
        if Channel(c) in policy.minimum_fee_per_channel
    ]
    amounts: list[Decimal] = []
    currency = None
    if per_channel:
        amounts.append(sum((m.amount for m in per_channel), Decimal(0)))
        currency = per_channel[0].currency
    if policy.minimum_fee is not None:
        amounts.append(policy.minimum_fee.amount)
        currency = policy.minimum_fee.currency
    if currency is None:
        return None
    return max(amounts), currency


def _check_fee(policy: Policy, scope: Scope, fee: tuple[Decimal, str]) -> list[Finding]:
    needed = required_fee(policy, scope.channels)
    if needed is None:
        return []
    amount, currency = fee
    need_amount, need_currency = needed
    if currency != need_currency:
        return [
            _warning(
                "fee",
                f"The fee is in {currency} and your minimum in {need_currency}; "
                "they cannot be compared",
            )
        ]
    if amount < need_amount:
        detail = ""
        priced = [c for c in scope.channels if Channel(c) in policy.minimum_fee_per_channel]
        if priced:
            pieces = [
                f"{CHANNEL_LABELS.get(c, c)} "
                f"{money(policy.minimum_fee_per_channel[Channel(c)].amount, currency)}"
                for c in priced
            ]
            detail = f" ({' + '.join(pieces)})" if len(pieces) > 1 else f" ({pieces[0]})"
        return [
            _violation(
                "fee",
                f"The fee of {money(amount, currency)} is below your minimum "
                f"of {money(need_amount, currency)}{detail}",
            )
        ]
    return [
        _ok(
            "fee",
            f"The fee of {money(amount, currency)} meets your minimum of "
            f"{money(need_amount, currency)}",
        )
    ]


def _check_terms_end(policy: Policy, scope: Scope, today: dt.date) -> list[Finding]:
    if policy.terms_end is None:
        return []
    if policy.terms_end < today:
        return [
            _warning(
                "terms_end",
                f"Your standing terms ended on {short_date(policy.terms_end)}; review them",
            )
        ]
    if scope.end > policy.terms_end:
        return [
            _warning(
                "terms_end",
                f"The use runs past {short_date(policy.terms_end)}, when your standing terms end",
            )
        ]
    return []


def add_months(day: dt.date, months: int) -> dt.date:
    """*day* moved *months* calendar months on, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
