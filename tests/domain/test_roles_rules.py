"""Who may do what, as pure rules (the services enforce them; tests/consent checks that)."""

from __future__ import annotations

import pytest

from reviewer.domain.roles import Action, Actor, Role, may, refusal

INES = Actor("Ines Duarte", Role.TALENT, talent_id="ines-duarte")
KOFI = Actor("Kofi Mensah", Role.TALENT, talent_id="kofi-mensah")
AGENT = Actor("Sam Okafor", Role.AGENT, represents=("ines-duarte", "kofi-mensah"))
OTHER_AGENT = Actor("Lee Park", Role.AGENT, represents=("kofi-mensah",))
DIRECTOR = Actor("Mara Lind", Role.DIRECTOR, organisation="Brand Studio")
OTHER_DIRECTOR = Actor("Otto Weiss", Role.DIRECTOR, organisation="Other House")

# On Ines's twin, for a request from Brand Studio.
ALLOWED = {
    Action.READ_REQUEST: {INES, AGENT, DIRECTOR},
    Action.DECIDE: {INES},
    Action.REVOKE: {INES},
    Action.SET_POLICY: {INES},
    Action.READ_POLICY: {INES, AGENT},
    Action.RELEASE: {INES, DIRECTOR},
    Action.FLAG: {INES, AGENT},
}
EVERYONE = [INES, KOFI, AGENT, OTHER_AGENT, DIRECTOR, OTHER_DIRECTOR]


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("actor", EVERYONE, ids=lambda a: a.name)
def test_the_rules(actor: Actor, action: Action) -> None:
    expected = actor in ALLOWED[action]
    assert may(actor, action, talent_id="ines-duarte", organisation="Brand Studio") is expected
    reason = refusal(actor, action, talent_id="ines-duarte", organisation="Brand Studio")
    assert (reason is None) is expected
    if reason:
        assert actor.name in reason and "ines-duarte" in reason


def test_refusals_say_why_in_plain_language() -> None:
    assert refusal(DIRECTOR, Action.DECIDE, talent_id="ines-duarte") == (
        "Mara Lind (director at Brand Studio) may not decide on requests for ines-duarte: "
        "only the talent themselves may"
    )
    assert refusal(KOFI, Action.REVOKE, talent_id="ines-duarte") == (
        "Kofi Mensah (talent kofi-mensah) may not revoke approvals for ines-duarte: only "
        "ines-duarte may"
    )
    assert "only their own organisation's" in refusal(
        OTHER_DIRECTOR, Action.READ_REQUEST, talent_id="ines-duarte", organisation="Brand Studio"
    )
