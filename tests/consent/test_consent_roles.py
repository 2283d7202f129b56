"""Each role, each action it may and may not take, through the services and the CLI.

The request acted on is Ines's (from Brand Studio), already approved by Ines. Every refusal
is an error (exit 1 on the command line), one audit entry ``permission.refused`` naming the
actor, and no other change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from consent_world import INES, INES_REQUEST, PROFILES, World

from reviewer.cli import main
from reviewer.domain.policy import POLICY_FORMAT, parse_policy
from reviewer.services.policy import PolicyService
from reviewer.services.receipts import ReceiptService
from reviewer.services.refusals import PermissionRefused
from reviewer.services.release import ReleaseService
from reviewer.services.review import ReviewService
from reviewer.storage import audit
from reviewer.storage.schema import decisions, policies, releases

TERMS = {"format": POLICY_FORMAT, "channels_allowed": ["ecommerce", "social"]}

ALLOWED = {
    "read": {"talent", "agent", "director"},
    "decide": {"talent"},
    "revoke": {"talent"},
    "set_policy": {"talent"},
    "read_policy": {"talent", "agent"},
    "release": {"talent", "director"},
    "receipt": {"talent", "agent", "director"},
}
PARTS = list(PROFILES)


def service_action(world: World, action: str, tmp: Path) -> Callable[[object], object]:
    library = world.library
    return {
        "read": lambda s: ReviewService(library).history(INES_REQUEST, session=s),
        "decide": lambda s: ReviewService(library).approve(s, INES_REQUEST, channels=["social"]),
        "revoke": lambda s: ReviewService(library).revoke(s, INES_REQUEST, reason="misused"),
        "set_policy": lambda s: PolicyService(library).set(
            s, INES, parse_policy(json.dumps(TERMS))
        ),
        "read_policy": lambda s: PolicyService(library).show(INES, session=s),
        "release": lambda s: ReleaseService(library).release(INES_REQUEST, tmp / "out", session=s),
        "receipt": lambda s: ReceiptService(library).export(
            INES_REQUEST, tmp / "r.json", session=s
        ),
    }[action]


def cli_args(world: World, action: str, name: str, tmp: Path) -> list[str]:
    (tmp / "terms.json").write_text(json.dumps(TERMS))
    return world.cli(
        *{
            "read": ["history", INES_REQUEST],
            "decide": ["decide", INES_REQUEST, "--approve", "--channels", "social"],
            "revoke": ["revoke", INES_REQUEST, "--reason", "misused"],
            "set_policy": ["policy", "set", INES, "--file", str(tmp / "terms.json")],
            "read_policy": ["policy", "show", INES],
            "release": ["release", INES_REQUEST, "--out", str(tmp / "out")],
            "receipt": ["receipt", INES_REQUEST, "--out", str(tmp / "r.json")],
        }[action],
        "--as",
        name,
    )


def consent_rows(world: World) -> dict[str, list[tuple]]:
    with world.library.engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(sa.select(t))]
            for t in (decisions, policies, releases)
        }


def refusals(world: World) -> list[audit.AuditEntry]:
    with world.library.engine.connect() as conn:
        return [e for e in audit.entries(conn) if e.action == "permission.refused"]


@pytest.mark.parametrize("action", list(ALLOWED))
@pytest.mark.parametrize("part", PARTS)
def test_services_enforce_the_roles(world: World, tmp_path: Path, part: str, action: str) -> None:
    session = world.session(part)
    run = service_action(world, action, tmp_path)
    if part in ALLOWED[action]:
        run(session)
        assert refusals(world) == []
        return
    before = consent_rows(world)
    with pytest.raises(PermissionRefused, match=PROFILES[part]):
        run(session)
    assert consent_rows(world) == before
    assert not (tmp_path / "out").exists() and not (tmp_path / "r.json").exists()
    [entry] = refusals(world)
    assert entry.actor == PROFILES[part]
    assert entry.subject in (f"request:{INES_REQUEST}", f"talent:{INES}")
    with world.library.engine.connect() as conn:
        assert audit.verify(conn) is None


@pytest.mark.parametrize("action", list(ALLOWED))
@pytest.mark.parametrize("part", PARTS)
def test_the_command_line_enforces_the_roles(
    world: World, tmp_path: Path, part: str, action: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = PROFILES[part]
    code = main(cli_args(world, action, name, tmp_path))
    err = capsys.readouterr().err
    if part in ALLOWED[action]:
        assert code == 0, err
        assert refusals(world) == []
        return
    assert code == 1
    assert err.startswith("reviewer: ") and name in err and err.count("\n") == 1
    [entry] = refusals(world)
    assert entry.actor == name


def test_without_a_profile_nobody_decides(world: World) -> None:
    from reviewer.domain.roles import Action
    from reviewer.services.access import require

    with pytest.raises(PermissionRefused, match="needs a signed-in talent profile"):
        require(world.library, None, Action.DECIDE, talent_id=INES, subject="x")
    assert refusals(world)[0].actor == "(no profile)"


def test_each_role_lists_only_what_it_may_see(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = {}
    for part, name in PROFILES.items():
        assert main(world.cli("list", "--json", "--as", name)) == 0
        seen[part] = sorted(json.loads(line)["id"] for line in capsys.readouterr().out.splitlines())
    assert seen == {
        "talent": ["ss27-denim-0042"],
        "other_talent": ["fw27-knit-0007"],
        "agent": ["ss27-denim-0042"],
        "other_agent": ["fw27-knit-0007"],
        "director": ["ss27-denim-0042"],
        "other_director": ["fw27-knit-0007"],
    }


def test_takedowns_show_each_role_only_its_own(world: World, tmp_path: Path) -> None:
    from reviewer.services.takedowns import list_takedowns

    ReleaseService(world.library).release(INES_REQUEST, tmp_path / "out")
    ReviewService(world.library).revoke(world.session("talent"), INES_REQUEST, reason="gone")
    visible = {
        part: [
            t.release.request_id for t in list_takedowns(world.library, session=world.session(part))
        ]
        for part in PARTS
    }
    assert visible == {
        "talent": [INES_REQUEST],
        "agent": [INES_REQUEST],
        "director": [INES_REQUEST],
        "other_talent": [],
        "other_agent": [],
        "other_director": [],
    }
