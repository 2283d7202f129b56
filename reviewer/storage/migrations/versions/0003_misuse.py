"""misuse: render fingerprints (and fingerprint existing renders), flags and their history

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 12:40:00.000000

The data step reads each render from the library's object store (``objects/`` beside the
database file) and fingerprints it. It is best effort: a render whose file is missing or
unreadable, or a database that is not a file beside its objects (PostgreSQL, a database kept
elsewhere), is left for the check-image service, which fingerprints whatever is missing
before it looks anything up.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def upgrade() -> None:
    op.create_table(
        "render_fingerprints",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("scheme", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("phash", sa.String(length=16), nullable=False),
        sa.Column("dhash", sa.String(length=16), nullable=False),
        sa.Column("variants", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("talent_id", sa.String(length=64), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=False),
        sa.Column("evidence_name", sa.String(length=255), nullable=False),
        sa.Column("evidence_media_type", sa.String(length=64), nullable=True),
        sa.Column("evidence_width", sa.Integer(), nullable=True),
        sa.Column("evidence_height", sa.Integer(), nullable=True),
        sa.Column("seen_at", sa.Text(), nullable=True),
        sa.Column("seen_on", sa.Date(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("territory", sa.String(length=8), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("verdict_text", sa.Text(), nullable=False),
        sa.Column("scope_check", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("asset_sha256", sa.String(length=64), nullable=True),
        sa.Column("asset_path", sa.String(length=1024), nullable=True),
        sa.Column("distance", sa.Integer(), nullable=True),
        sa.Column("similarity", sa.String(length=8), nullable=True),
        sa.Column("confidence", sa.String(length=8), nullable=True),
        sa.Column("check_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["talent_id"], ["talents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_flags_evidence_sha256"), ["evidence_sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_flags_organisation"), ["organisation"], unique=False)
        batch_op.create_index(batch_op.f("ix_flags_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_flags_talent_id"), ["talent_id"], unique=False)
    op.create_table(
        "flag_events",
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["flag_id"], ["flags.id"]),
        sa.PrimaryKeyConstraint("flag_id", "seq"),
    )
    _fingerprint_existing_renders(op.get_bind())


def downgrade() -> None:
    op.drop_table("flag_events")
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flags_talent_id"))
        batch_op.drop_index(batch_op.f("ix_flags_request_id"))
        batch_op.drop_index(batch_op.f("ix_flags_organisation"))
        batch_op.drop_index(batch_op.f("ix_flags_evidence_sha256"))
    op.drop_table("flags")
    op.drop_table("render_fingerprints")


def _objects_folder(conn: sa.Connection) -> Path | None:
    """``objects/`` beside the SQLite database file, if that is where this database lives."""
    url = conn.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    folder = Path(url.database).expanduser().resolve().parent / "objects"
    return folder if folder.is_dir() else None


def _fingerprint_existing_renders(conn: sa.Connection) -> None:
    objects = _objects_folder(conn)
    if objects is None:
        return
    # The computation lives with the rest of the image code; rows carry its scheme number, so
    # a later change of the computation redoes them rather than trusting these.
    from reviewer.assets.fingerprints import (
        SCHEME,
        FingerprintError,
        fingerprint_render,
        hex64,
        thumbnail_to_png,
        variants_to_bytes,
    )

    shas = conn.execute(
        sa.text("SELECT DISTINCT sha256 FROM assets WHERE role = 'render' ORDER BY sha256")
    ).scalars().all()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    insert = sa.text(
        "INSERT INTO render_fingerprints (sha256, scheme, width, height, phash, dhash, "
        "variants, thumbnail, created_at) VALUES (:sha256, :scheme, :width, :height, :phash, "
        ":dhash, :variants, :thumbnail, :created_at)"
    )
    done = skipped = 0
    for sha in shas:
        path = objects / sha[:2] / sha[2:]
        try:
            fingerprint = fingerprint_render(path)
        except (FingerprintError, OSError) as exc:
            log.warning("render %s not fingerprinted: %s", sha, exc)
            skipped += 1
            continue
        conn.execute(insert, {
            "sha256": sha,
            "scheme": SCHEME,
            "width": fingerprint.width,
            "height": fingerprint.height,
            "phash": hex64(fingerprint.phash),
            "dhash": hex64(fingerprint.dhash),
            "variants": variants_to_bytes(fingerprint.variants),
            "thumbnail": thumbnail_to_png(fingerprint.thumbnail),
            "created_at": now,
        })
        done += 1
    if shas:
        log.info("fingerprinted %d existing renders (%d left for later)", done, skipped)
