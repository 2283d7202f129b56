"""Tables, as SQLAlchemy Core. The migrations in ``storage/migrations`` create them; this module
describes them for queries. Keep the two in step (a test compares them)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

talents = sa.Table(
    "talents",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

requests = sa.Table(
    "requests",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("talent_id", sa.String(64), sa.ForeignKey("talents.id"), nullable=False, index=True),
    sa.Column("latest_revision", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

revisions = sa.Table(
    "revisions",
    metadata,
    sa.Column("request_id", sa.String(64), sa.ForeignKey("requests.id"), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("content_digest", sa.String(64), nullable=False),
    sa.Column("manifest_sha256", sa.String(64), nullable=False),
    sa.Column("manifest_json", sa.Text, nullable=False),
    sa.Column("campaign", sa.String(200), nullable=False),
    sa.Column("brief", sa.Text, nullable=False),
    sa.Column("requester_name", sa.String(200), nullable=False),
    sa.Column("requester_organisation", sa.String(200), nullable=False, index=True),
    sa.Column("requester_email", sa.String(254), nullable=False),
    sa.Column("channels", sa.JSON, nullable=False),
    sa.Column("territories", sa.JSON, nullable=False),
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("voice", sa.Boolean, nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("fee_amount", sa.String(20), nullable=False),
    sa.Column("fee_currency", sa.String(3), nullable=False),
    sa.Column("due_date", sa.Date, nullable=False, index=True),
    sa.Column("imported_at", sa.String(32), nullable=False),
    sa.Column("source_name", sa.String(255), nullable=False),
)

assets = sa.Table(
    "assets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("path", sa.String(1024), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("media_type", sa.String(64), nullable=False),
    sa.Column("texture_path", sa.String(1024), nullable=True),
    sa.Column("triangles", sa.BigInteger, nullable=True),
    sa.Column("width", sa.Integer, nullable=True),
    sa.Column("height", sa.Integer, nullable=True),
    sa.ForeignKeyConstraint(
        ["request_id", "revision"], ["revisions.request_id", "revisions.revision"]
    ),
    sa.UniqueConstraint("request_id", "revision", "path", name="uq_asset_path"),
)

# Files an avatar needs besides itself (an OBJ's MTL and maps, a glTF's buffers, a named
# texture), stored with it so that it can be laid out again exactly as in the package.
asset_files = sa.Table(
    "asset_files",
    metadata,
    sa.Column("asset_id", sa.Integer, sa.ForeignKey("assets.id"), primary_key=True),
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("size", sa.BigInteger, nullable=False),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False, index=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("verdict", sa.String(24), nullable=False),
    sa.Column("decided_by", sa.String(200), nullable=False),
    sa.Column("decided_at", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("conditions", sa.Text, nullable=True),
    sa.Column("scope", sa.JSON, nullable=True),
    sa.Column("approved_until", sa.Date, nullable=True),
    sa.Column("policy_override", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("receipt_json", sa.Text, nullable=True),
    sa.Column("revoked_at", sa.String(32), nullable=True),
    sa.Column("revocation_json", sa.Text, nullable=True),
    # Added in 0002. seq orders decisions (a later decision supersedes an earlier one; two
    # in the same second must still have an order); the revocation columns spare readers
    # from parsing revocation_json.
    sa.Column("seq", sa.Integer, nullable=False, index=True, unique=True),
    sa.Column("revoked_by", sa.String(100), nullable=True),
    sa.Column("revocation_reason", sa.Text, nullable=True),
    sa.ForeignKeyConstraint(
        ["request_id", "revision"], ["revisions.request_id", "revisions.revision"]
    ),
)

# Consent (0002) ---------------------------------------------------------------------------

# Who signs in. role: talent (talent_id set), agent (represents: list of talent ids) or
# director (organisation set). The passphrase is kept only as an Argon2id hash.
profiles = sa.Table(
    "profiles",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("talent_id", sa.String(64), sa.ForeignKey("talents.id"), nullable=True, unique=True),
    sa.Column("represents", sa.JSON, nullable=False),
    sa.Column("organisation", sa.String(200), nullable=True),
    sa.Column("passphrase_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

# A talent's Ed25519 keys; the private key only sealed with the profile's passphrase.
talent_keys = sa.Table(
    "talent_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("talent_id", sa.String(64), sa.ForeignKey("talents.id"), nullable=False, index=True),
    sa.Column("profile_name", sa.String(100), sa.ForeignKey("profiles.name"), nullable=False),
    sa.Column("public_key", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
    sa.Column("sealed_private_key", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

# Standing terms, every version kept; the highest version is in force.
policies = sa.Table(
    "policies",
    metadata,
    sa.Column("talent_id", sa.String(64), sa.ForeignKey("talents.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("policy_json", sa.Text, nullable=False),
    sa.Column("set_by", sa.String(100), nullable=False),
    sa.Column("set_at", sa.String(32), nullable=False),
)

# Every time the release gate let a use out: where to, which files, under which decision.
releases = sa.Table(
    "releases",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False, index=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column(
        "decision_id", sa.String(36), sa.ForeignKey("decisions.id"), nullable=False, index=True
    ),
    sa.Column("out_dir", sa.Text, nullable=False),
    sa.Column("files", sa.JSON, nullable=False),
    sa.Column("released_at", sa.String(32), nullable=False),
    sa.Column("released_by", sa.String(200), nullable=False),
    sa.ForeignKeyConstraint(
        ["request_id", "revision"], ["revisions.request_id", "revisions.revision"]
    ),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False, index=True),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# One row: how many entries the chain holds and the hash of the last. Written in the same
# transaction as every entry, so deleting the newest entries is detectable.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# Misuse (0003) ------------------------------------------------------------------------------

# Perceptual fingerprints of renders, by the SHA-256 of their bytes (a render shared by two
# requests is fingerprinted once). phash and dhash: 64-bit pHash and dHash of the whole image
# as 16 hex digits. variants: the same for every crop of assets/fingerprints.py CROP_BOXES, as
# big-endian uint64 (pHash, dHash) pairs. thumbnail: a grey PNG (longer side 128 px) that a
# found image is aligned on. scheme: the fingerprint computation; other schemes are redone.
render_fingerprints = sa.Table(
    "render_fingerprints",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("scheme", sa.Integer, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("phash", sa.String(16), nullable=False),
    sa.Column("dhash", sa.String(16), nullable=False),
    sa.Column("variants", sa.LargeBinary, nullable=False),
    sa.Column("thumbnail", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

# Misuse flags: an image seen in the wild, stored by content hash in the object store, with
# the sighting, the best match and what the library said about it when it was flagged.
# Nothing deletes a flag; its status changes are kept in flag_events.
flags = sa.Table(
    "flags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("talent_id", sa.String(64), sa.ForeignKey("talents.id"), nullable=False, index=True),
    sa.Column("organisation", sa.String(200), nullable=True, index=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("evidence_sha256", sa.String(64), nullable=False, index=True),
    sa.Column("evidence_name", sa.String(255), nullable=False),
    sa.Column("evidence_media_type", sa.String(64), nullable=True),
    sa.Column("evidence_width", sa.Integer, nullable=True),
    sa.Column("evidence_height", sa.Integer, nullable=True),
    sa.Column("seen_at", sa.Text, nullable=True),
    sa.Column("seen_on", sa.Date, nullable=True),
    sa.Column("channel", sa.String(16), nullable=True),
    sa.Column("territory", sa.String(8), nullable=True),
    sa.Column("notes", sa.Text, nullable=True),
    sa.Column("verdict", sa.String(32), nullable=False),
    sa.Column("verdict_text", sa.Text, nullable=False),
    sa.Column("scope_check", sa.Text, nullable=True),
    sa.Column("request_id", sa.String(64), nullable=True, index=True),
    sa.Column("revision", sa.Integer, nullable=True),
    sa.Column("asset_sha256", sa.String(64), nullable=True),
    sa.Column("asset_path", sa.String(1024), nullable=True),
    sa.Column("distance", sa.Integer, nullable=True),
    sa.Column("similarity", sa.String(8), nullable=True),
    sa.Column("confidence", sa.String(8), nullable=True),
    sa.Column("check_json", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
)

flag_events = sa.Table(
    "flag_events",
    metadata,
    sa.Column("flag_id", sa.Integer, sa.ForeignKey("flags.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("from_status", sa.String(24), nullable=True),
    sa.Column("to_status", sa.String(24), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
)
