"""Standing terms: strict parsing, findings in plain language, and properties."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewer.domain.policy import (
    POLICY_FORMAT,
    FindingLevel,
    Policy,
    PolicyFormatError,
    add_months,
    check_request,
    parse_policy,
    violations,
)
from reviewer.domain.scope import CHANNEL_ORDER, Scope, narrow

TODAY = dt.date(2026, 11, 28)
SCOPE = Scope(
    ("ecommerce", "ooh"), ("EU", "GB"), dt.date(2027, 2, 1), dt.date(2027, 7, 31), ("denim",), False
)
FEE = (Decimal("1800.00"), "EUR")


def terms(**fields: object) -> Policy:
    return parse_policy(json.dumps({"format": POLICY_FORMAT, **fields}))


def texts(findings: list, level: FindingLevel = FindingLevel.VIOLATION) -> list[str]:
    return [f.text for f in findings if f.level is level]


def test_each_rule_explains_itself() -> None:
    policy = terms(
        channels_allowed=["ecommerce", "social"],
        territories_denied=["FR"],
        categories_never=["denim"],
        voice_allowed=False,
        longest_term={"months": 3},
        minimum_fee={"amount": "2000.00", "currency": "EUR"},
        minimum_fee_per_channel={"ooh": {"amount": "5000.00", "currency": "EUR"}},
        terms_end="2027-03-31",
    )
    findings = check_request(policy, SCOPE, FEE, today=TODAY)
    assert texts(findings) == [
        "Channel 'ooh' is not among the channels you allow",
        "Territory 'EU' (the EU) includes 'FR' (France), which you never allow",
        "Category 'denim' is one you never accept",
        "The use runs 181 days (1 Feb 2027 to 31 Jul 2027), longer than your longest term "
        "of 3 months",
        "The fee of €1,800 is below your minimum of €5,000 (out-of-home €5,000)",
    ]
    assert texts(findings, FindingLevel.WARNING) == [
        "The use runs past 31 Mar 2027, when your standing terms end"
    ]


def test_a_request_within_the_terms_is_all_ok() -> None:
    policy = terms(
        channels_allowed=["ecommerce", "ooh"],
        territories_allowed=["EEA", "GB"],
        longest_term={"days": 200},
        minimum_fee={"amount": "1800", "currency": "EUR"},
    )
    findings = check_request(policy, SCOPE, FEE, today=TODAY)
    assert findings and all(f.level is FindingLevel.OK for f in findings)
    assert check_request(None, SCOPE, FEE, today=TODAY)[0].level is FindingLevel.OK


def test_territories_outside_an_allow_list_and_voice() -> None:
    policy = terms(territories_allowed=["EU"], voice_allowed=False)
    scope = Scope(("social",), ("FR", "US", "WW"), SCOPE.start, SCOPE.end, (), True)
    assert texts(check_request(policy, scope, FEE, today=TODAY)) == [
        "Territory 'US' is not among the territories you allow",
        "Territory 'WW' is not among the territories you allow",
        "The use includes your voice, which you do not allow",
    ]


def test_fees_in_another_currency_are_a_warning_and_per_channel_minimums_add_up() -> None:
    policy = terms(
        minimum_fee_per_channel={
            "ecommerce": {"amount": "1000", "currency": "EUR"},
            "ooh": {"amount": "900", "currency": "EUR"},
        }
    )
    assert texts(
        check_request(policy, SCOPE, (Decimal(5000), "USD"), today=TODAY), FindingLevel.WARNING
    ) == ["The fee is in USD and your minimum in EUR; they cannot be compared"]
    assert texts(check_request(policy, SCOPE, FEE, today=TODAY)) == [
        "The fee of €1,800 is below your minimum of €1,900 (e-commerce €1,000 + out-of-home €900)"
    ]


def test_terms_that_ended_ask_to_be_reviewed() -> None:
    findings = check_request(terms(terms_end="2026-01-01"), SCOPE, FEE, today=TODAY)
    assert texts(findings, FindingLevel.WARNING) == [
        "Your standing terms ended on 1 Jan 2026; review them"
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"channels_allowed": ["radio"]}, "channels_allowed.0"),
        ({"territories_denied": ["France"]}, "territories_denied.0"),
        ({"colour": "blue"}, "unknown key"),
        ({"voice_allowed": "no"}, "voice_allowed"),
        ({"longest_term": {"days": 3, "months": 1}}, "either days or months"),
        ({"longest_term": {}}, "either days or months"),
        ({"minimum_fee": {"amount": 100.5, "currency": "EUR"}}, "decimal amount"),
        ({"minimum_fee": {"amount": "-1", "currency": "EUR"}}, "minimum_fee.amount"),
        (
            {
                "minimum_fee": {"amount": "1", "currency": "EUR"},
                "minimum_fee_per_channel": {"tv": {"amount": "1", "currency": "GBP"}},
            },
            "one currency",
        ),
        ({"territories_allowed": ["FR"], "territories_denied": ["FR"]}, "both allowed and denied"),
        ({"terms_end": "31/12/2027"}, "terms_end"),
        ({"terms_end": 1830297600}, "terms_end"),
        ({"longest_term": {"days": "30"}}, "longest_term.days"),
    ],
)
def test_terms_are_strictly_validated(document: dict, message: str) -> None:
    with pytest.raises(PolicyFormatError, match=message):
        parse_policy(json.dumps({"format": POLICY_FORMAT, **document}))
    with pytest.raises(PolicyFormatError, match="format"):
        parse_policy("{}")


def test_months_are_calendar_months() -> None:
    assert add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 11, 15), 3) == dt.date(2028, 2, 15)


# Properties -----------------------------------------------------------------------------------

TERRITORIES = ["EU", "WW", "GB", "US", "FR", "DE", "NO"]


@st.composite
def scopes(draw: st.DrawFn) -> Scope:
    start = draw(st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2029, 1, 1)))
    return Scope(
        tuple(draw(st.lists(st.sampled_from(CHANNEL_ORDER), min_size=1, unique=True))),
        tuple(draw(st.lists(st.sampled_from(TERRITORIES), min_size=1, unique=True))),
        start,
        draw(st.dates(min_value=start, max_value=start + dt.timedelta(days=900))),
        tuple(draw(st.lists(st.sampled_from(["denim", "tobacco", "shoes"]), unique=True))),
        draw(st.booleans()),
    )


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    document: dict[str, object] = {"format": POLICY_FORMAT}
    if draw(st.booleans()):
        document["channels_allowed"] = draw(st.lists(st.sampled_from(CHANNEL_ORDER), unique=True))
    denied = draw(st.lists(st.sampled_from(TERRITORIES), unique=True, max_size=2))
    document["territories_denied"] = denied
    if draw(st.booleans()):
        document["territories_allowed"] = draw(
            st.lists(st.sampled_from([t for t in TERRITORIES if t not in denied]), unique=True)
        )
    document["categories_never"] = draw(
        st.lists(st.sampled_from(["tobacco", "alcohol"]), unique=True)
    )
    document["voice_allowed"] = draw(st.booleans())
    if draw(st.booleans()):
        document["longest_term"] = draw(st.sampled_from([{"days": 90}, {"months": 12}]))
    if draw(st.booleans()):
        document["minimum_fee"] = {"amount": str(draw(st.integers(0, 5000))), "currency": "EUR"}
    if draw(st.booleans()):
        document["minimum_fee_per_channel"] = {
            c: {"amount": str(draw(st.integers(0, 3000))), "currency": "EUR"}
            for c in draw(st.lists(st.sampled_from(CHANNEL_ORDER), unique=True, max_size=3))
        }
    return Policy.model_validate(document)


fees = st.integers(0, 20_000).map(lambda n: (Decimal(n), "EUR"))


@given(policies(), scopes(), fees)
def test_each_channel_outside_the_allow_list_is_one_violation(
    policy: Policy, scope: Scope, fee: tuple
) -> None:
    found = [
        f
        for f in violations(check_request(policy, scope, fee, today=TODAY))
        if f.rule == "channels"
    ]
    allowed = (
        None if policy.channels_allowed is None else {c.value for c in policy.channels_allowed}
    )
    expected = [] if allowed is None else [c for c in scope.channels if c not in allowed]
    assert [f.text for f in found] == [
        f"Channel '{c}' is not among the channels you allow" for c in expected
    ]


@given(policies(), scopes(), fees, st.integers(1, 10_000))
def test_a_higher_fee_never_adds_a_violation(
    policy: Policy, scope: Scope, fee: tuple, more: int
) -> None:
    before = {f.rule for f in violations(check_request(policy, scope, fee, today=TODAY))}
    after = {
        f.rule
        for f in violations(check_request(policy, scope, (fee[0] + more, "EUR"), today=TODAY))
    }
    assert after <= before


@given(policies(), scopes(), fees, st.data())
def test_narrowing_never_adds_a_violation(
    policy: Policy, scope: Scope, fee: tuple, data: st.DataObject
) -> None:
    narrower = narrow(
        scope,
        channels=data.draw(st.lists(st.sampled_from(scope.channels), min_size=1, unique=True)),
        territories=data.draw(
            st.lists(st.sampled_from(scope.territories), min_size=1, unique=True)
        ),
        end=data.draw(st.dates(min_value=scope.start, max_value=scope.end)),
    )
    before = violations(check_request(policy, scope, fee, today=TODAY))
    after = violations(check_request(policy, narrower, fee, today=TODAY))
    # A narrower use breaks no rule the wider one kept; and names nothing new (the fee and
    # term texts carry sums and lengths, which shrink).
    assert {f.rule for f in after} <= {f.rule for f in before}
    assert {f.text for f in after if f.rule not in ("fee", "term")} <= {f.text for f in before}


@given(policies(), scopes(), fees)
def test_a_policy_that_allows_everything_finds_nothing_wrong(
    policy: Policy, scope: Scope, fee: tuple
) -> None:
    lenient = Policy.model_validate({"format": POLICY_FORMAT})
    assert violations(check_request(lenient, scope, fee, today=TODAY)) == []
    findings = check_request(policy, scope, fee, today=TODAY)
    assert all(f.text and f.level in FindingLevel for f in findings)
