"""consent: profiles, talent keys, standing terms, releases; decisions get an order

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 11:12:49.751999
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("talent_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("policy_json", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("set_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["talent_id"], ["talents.id"]),
        sa.PrimaryKeyConstraint("talent_id", "version"),
    )
    op.create_table(
        "profiles",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("talent_id", sa.String(length=64), nullable=True),
        sa.Column("represents", sa.JSON(), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("passphrase_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["talent_id"], ["talents.id"]),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("talent_id"),
    )
    op.create_table(
        "talent_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("talent_id", sa.String(length=64), nullable=False),
        sa.Column("profile_name", sa.String(length=100), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("sealed_private_key", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["profile_name"], ["profiles.name"]),
        sa.ForeignKeyConstraint(["talent_id"], ["talents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint"),
    )
    with op.batch_alter_table("talent_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_talent_keys_talent_id"), ["talent_id"], unique=False)

    op.create_table(
        "releases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("out_dir", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("released_at", sa.String(length=32), nullable=False),
        sa.Column("released_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"]),
        sa.ForeignKeyConstraint(
            ["request_id", "revision"],
            ["revisions.request_id", "revisions.revision"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_releases_decision_id"), ["decision_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_releases_request_id"), ["request_id"], unique=False)

    # decisions.seq: added empty, numbered in the order the decisions were made (time, then
    # id, as 0001 ordered them), then made required and unique.
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("revoked_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("revocation_reason", sa.Text(), nullable=True))
    op.execute(
        "UPDATE decisions SET seq = (SELECT COUNT(*) FROM decisions AS d"
        " WHERE d.decided_at < decisions.decided_at"
        " OR (d.decided_at = decisions.decided_at AND d.id <= decisions.id))"
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f("ix_decisions_seq"), ["seq"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_seq"))
        batch_op.drop_column("revocation_reason")
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("seq")

    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_releases_request_id"))
        batch_op.drop_index(batch_op.f("ix_releases_decision_id"))

    op.drop_table("releases")
    with op.batch_alter_table("talent_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_talent_keys_talent_id"))

    op.drop_table("talent_keys")
    op.drop_table("profiles")
    op.drop_table("policies")
