"""Engine set-up and schema migrations."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).with_name("migrations")


def create_engine(url: str) -> sa.Engine:
    """An engine for *url*; for SQLite: WAL, full fsync on commit, foreign keys, a busy wait."""
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # Let SQLAlchemy drive transactions (BEGIN) instead of pysqlite's own guesswork.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            # FULL: a commit that returned is on disk, also in WAL mode and across power loss.
            cursor.execute("PRAGMA synchronous=FULL")
            # Readers never wait for a writer, and a writer never waits for readers. A no-op
            # on a database that is already in WAL mode.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            # Writers take the lock at BEGIN, so two of them queue (busy_timeout) instead of
            # failing when a read turns into a write. Pure readers (see `reader`) begin
            # DEFERRED and never wait for a writer in WAL mode.
            mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine) -> None:
    """Bring the schema to the newest migration; writes nothing when it is already there."""
    if current_revision(engine) == head_revision():
        return
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")


def reader(engine: sa.Engine) -> sa.Engine:
    """The same engine for read-only work: never takes the write lock."""
    return engine.execution_options(sqlite_begin="DEFERRED")
