"""Profiles (talent, agent, director), passphrases and signing in."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reviewer.domain.manifest import ID_PATTERN
from reviewer.domain.receipt import key_fingerprint
from reviewer.domain.roles import Actor, Role
from reviewer.services.refusals import AuthenticationFailed, NotFound, ProfileRefused
from reviewer.services.signing_keys import (
    WrongPassphrase,
    check_passphrase,
    hash_passphrase,
    new_signing_key,
    open_sealed_key,
    public_key_bytes,
    seal_private_key,
)
from reviewer.storage import audit
from reviewer.storage.library import Library
from reviewer.storage.schema import profiles, talent_keys, talents

MIN_PASSPHRASE_LENGTH = 8
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    role: Role
    talent_id: str | None
    represents: tuple[str, ...]
    organisation: str | None
    created_at: str
    key_fingerprint: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.role, self.talent_id, self.represents, self.organisation)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role.value,
            "talent": self.talent_id,
            "represents": list(self.represents),
            "organisation": self.organisation,
            "created_at": self.created_at,
            "key_fingerprint": self.key_fingerprint,
        }

    def describe(self) -> str:
        if self.role is Role.TALENT:
            return f"talent {self.talent_id}, key {self.key_fingerprint}"
        if self.role is Role.AGENT:
            return f"agent for {', '.join(self.represents)}"
        return f"director at {self.organisation}"


@dataclass(frozen=True)
class Session:
    """A signed-in profile. A talent's session holds their unsealed signing key in memory."""

    actor: Actor
    signed_in_at: dt.datetime
    _signing_key: Ed25519PrivateKey | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.actor.name

    @property
    def role(self) -> Role:
        return self.actor.role

    @property
    def public_key(self) -> bytes | None:
        return None if self._signing_key is None else public_key_bytes(self._signing_key)

    @property
    def key_fingerprint(self) -> str | None:
        key = self.public_key
        return None if key is None else key_fingerprint(key)

    def sealed_key(self, passphrase: str) -> str | None:
        """The signing key sealed with *passphrase* (for a change of passphrase)."""
        return (
            None if self._signing_key is None else seal_private_key(self._signing_key, passphrase)
        )

    def sign(self, data: bytes) -> bytes:
        if self._signing_key is None:
            raise AuthenticationFailed(f"{self.actor.describe()} holds no signing key")
        return self._signing_key.sign(data)


class ProfileService:
    def __init__(self, library: Library) -> None:
        self.library = library

    # Creating -----------------------------------------------------------------------------

    def add(
        self,
        name: str,
        role: Role | str,
        passphrase: str,
        *,
        talent_id: str | None = None,
        represents: Sequence[str] = (),
        organisation: str | None = None,
        actor: str = "profiles",
    ) -> Profile:
        """Create a profile; a talent profile also gets a new Ed25519 key, sealed.

        A talent may have only one profile: a second one could sign in their name.
        """
        return self.add_and_sign_in(
            name,
            role,
            passphrase,
            talent_id=talent_id,
            represents=represents,
            organisation=organisation,
            actor=actor,
        )[0]

    def add_and_sign_in(
        self,
        name: str,
        role: Role | str,
        passphrase: str,
        *,
        talent_id: str | None = None,
        represents: Sequence[str] = (),
        organisation: str | None = None,
        actor: str = "profiles",
    ) -> tuple[Profile, Session]:
        """:meth:`add`, and a session for the new profile without hashing the passphrase
        again (Argon2 is slow on purpose; the demo creates several profiles)."""
        role = Role(role)
        name = name.strip()
        represents = tuple(dict.fromkeys(t.strip() for t in represents if t.strip()))
        organisation = organisation.strip() if organisation else None
        self._check_new(
            name,
            role,
            passphrase,
            talent_id=talent_id,
            represents=represents,
            organisation=organisation,
        )
        with self.library.reader.connect() as conn:  # refuse at once, before the slow hashing
            self._check_unique(conn, name, role, talent_id)
        passphrase_hash = hash_passphrase(passphrase)
        key = sealed = None
        if role is Role.TALENT:
            key = new_signing_key()
            sealed = seal_private_key(key, passphrase)
        now = audit.utc_now()
        with self.library.engine.begin() as conn:
            self._check_unique(conn, name, role, talent_id)
            details: dict[str, Any] = {"role": role.value}
            fingerprint = None
            if role is Role.TALENT:
                assert talent_id is not None and key is not None and sealed is not None
                self._ensure_talent(conn, talent_id, name, now, actor)
                details["talent"] = talent_id
            conn.execute(
                profiles.insert().values(
                    name=name,
                    role=role.value,
                    talent_id=talent_id if role is Role.TALENT else None,
                    represents=list(represents),
                    organisation=organisation,
                    passphrase_hash=passphrase_hash,
                    created_at=now,
                )
            )
            if role is Role.TALENT:
                public = public_key_bytes(key)  # type: ignore[arg-type]
                fingerprint = key_fingerprint(public)
                conn.execute(
                    talent_keys.update()
                    .where(talent_keys.c.talent_id == talent_id)
                    .values(active=False)
                )
                conn.execute(
                    talent_keys.insert().values(
                        talent_id=talent_id,
                        profile_name=name,
                        public_key=public.hex(),
                        fingerprint=fingerprint,
                        sealed_private_key=sealed,
                        active=True,
                        created_at=now,
                    )
                )
                details["key_fingerprint"] = fingerprint
            if represents:
                details["represents"] = list(represents)
            if organisation:
                details["organisation"] = organisation
            audit.append(
                conn,
                actor=actor,
                action="profile.added",
                subject=f"profile:{name}",
                at=now,
                details=details,
            )
        profile = Profile(
            name,
            role,
            talent_id if role is Role.TALENT else None,
            represents,
            organisation,
            now,
            fingerprint,
        )
        return profile, Session(profile.actor, dt.datetime.now(dt.UTC), key)

    @staticmethod
    def _check_new(
        name: str,
        role: Role,
        passphrase: str,
        *,
        talent_id: str | None,
        represents: tuple[str, ...],
        organisation: str | None,
    ) -> None:
        if not _NAME.match(name):
            raise ProfileRefused("a profile name is 1 to 100 characters, no control characters")
        check_new_passphrase(passphrase)
        if role is Role.TALENT:
            if not talent_id or not re.match(ID_PATTERN, talent_id):
                raise ProfileRefused(
                    "a talent profile needs --talent ID (a talent id such as ines-duarte)"
                )
            if represents or organisation:
                raise ProfileRefused("a talent profile has no --represents or --organisation")
        elif role is Role.AGENT:
            if not represents:
                raise ProfileRefused("an agent profile needs --represents ID[,ID...]")
            bad = [t for t in represents if not re.match(ID_PATTERN, t)]
            if bad:
                raise ProfileRefused(f"{bad[0]!r} is not a talent id")
            if talent_id or organisation:
                raise ProfileRefused("an agent profile has no --talent or --organisation")
        else:
            if not organisation or len(organisation) > 200:
                raise ProfileRefused("a director profile needs --organisation ORG")
            if talent_id or represents:
                raise ProfileRefused("a director profile has no --talent or --represents")

    @staticmethod
    def _check_unique(conn: sa.Connection, name: str, role: Role, talent_id: str | None) -> None:
        if conn.execute(sa.select(profiles.c.name).where(profiles.c.name == name)).first():
            raise ProfileRefused(f"a profile named {name!r} already exists")
        if role is Role.TALENT:
            holder = conn.execute(
                sa.select(profiles.c.name).where(profiles.c.talent_id == talent_id)
            ).scalar()
            if holder is not None:
                raise ProfileRefused(
                    f"talent {talent_id} already has a profile ({holder}); a talent has exactly one"
                )

    @staticmethod
    def _ensure_talent(
        conn: sa.Connection, talent_id: str, name: str, now: str, actor: str
    ) -> None:
        known = conn.execute(
            sa.select(talents.c.display_name).where(talents.c.id == talent_id)
        ).first()
        if known is not None:
            if known.display_name == talent_id:  # the placeholder an import gave it
                conn.execute(
                    talents.update().where(talents.c.id == talent_id).values(display_name=name)
                )
                audit.append(
                    conn,
                    actor=actor,
                    action="talent.named",
                    subject=f"talent:{talent_id}",
                    at=now,
                    details={"display_name": name},
                )
            return
        conn.execute(talents.insert().values(id=talent_id, display_name=name, created_at=now))
        audit.append(
            conn,
            actor=actor,
            action="talent.registered",
            subject=f"talent:{talent_id}",
            at=now,
            details={"display_name": name},
        )

    # Reading ------------------------------------------------------------------------------

    def list(self) -> list[Profile]:
        with self.library.reader.connect() as conn:
            rows = conn.execute(sa.select(profiles).order_by(profiles.c.role, profiles.c.name))
            keys = dict(
                conn.execute(
                    sa.select(talent_keys.c.talent_id, talent_keys.c.fingerprint).where(
                        talent_keys.c.active
                    )
                ).all()
            )
            return [_profile(row, keys.get(row.talent_id)) for row in rows]

    def get(self, name: str) -> Profile:
        for profile in self.list():
            if profile.name == name:
                return profile
        raise NotFound(f"no profile named {name!r} (see `reviewer profile list`)")

    # Signing in ---------------------------------------------------------------------------

    def authenticate(self, name: str, passphrase: str) -> Session:
        """Check *passphrase* for *name*; for a talent, unseal their signing key.

        A wrong passphrase raises :class:`AuthenticationFailed` and changes nothing.
        """
        with self.library.reader.connect() as conn:
            row = conn.execute(sa.select(profiles).where(profiles.c.name == name)).first()
            sealed = None
            if row is not None and row.role == Role.TALENT.value:
                sealed = conn.execute(
                    sa.select(talent_keys.c.sealed_private_key).where(
                        talent_keys.c.talent_id == row.talent_id,
                        talent_keys.c.profile_name == name,
                        talent_keys.c.active,
                    )
                ).scalar()
        if row is None:
            raise AuthenticationFailed(f"no profile named {name!r} (see `reviewer profile list`)")
        try:
            check_passphrase(row.passphrase_hash, passphrase)
            key = open_sealed_key(sealed, passphrase) if sealed is not None else None
        except WrongPassphrase:
            raise AuthenticationFailed(f"wrong passphrase for profile {name!r}") from None
        if row.role == Role.TALENT.value and key is None:
            raise AuthenticationFailed(f"profile {name!r} has no active signing key")
        return Session(_profile(row, None).actor, dt.datetime.now(dt.UTC), key)

    def change_passphrase(self, name: str, old: str, new: str, *, actor: str | None = None) -> None:
        """Re-hash the passphrase and re-seal the private key with it, in one transaction."""
        check_new_passphrase(new)
        session = self.authenticate(name, old)
        new_hash = hash_passphrase(new)
        sealed = session.sealed_key(new)
        with self.library.engine.begin() as conn:
            current = conn.execute(
                sa.select(profiles.c.passphrase_hash).where(profiles.c.name == name)
            ).scalar_one()
            conn.execute(
                profiles.update()
                .where(profiles.c.name == name, profiles.c.passphrase_hash == current)
                .values(passphrase_hash=new_hash)
            )
            if sealed is not None:
                conn.execute(
                    talent_keys.update()
                    .where(talent_keys.c.profile_name == name, talent_keys.c.active)
                    .values(sealed_private_key=sealed)
                )
            audit.append(
                conn,
                actor=actor or name,
                action="profile.passphrase_changed",
                subject=f"profile:{name}",
                details={"key_resealed": sealed is not None},
            )

    def registered_keys(self, talent_id: str) -> dict[str, bool]:
        """Public keys (hex) registered for *talent_id*, each with whether it is active."""
        with self.library.reader.connect() as conn:
            return dict(
                conn.execute(
                    sa.select(talent_keys.c.public_key, talent_keys.c.active).where(
                        talent_keys.c.talent_id == talent_id
                    )
                ).all()
            )


def check_new_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise ProfileRefused(f"a passphrase needs at least {MIN_PASSPHRASE_LENGTH} characters")


def _profile(row: sa.Row, fingerprint: str | None) -> Profile:
    return Profile(
        row.name,
        Role(row.role),
        row.talent_id,
        tuple(row.represents or ()),
        row.organisation,
        row.created_at,
        fingerprint,
    )
