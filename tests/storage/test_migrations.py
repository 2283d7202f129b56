"""The migrations build exactly the schema that the code describes."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from reviewer.storage import database
from reviewer.storage.library import Library
from reviewer.storage.schema import metadata


def test_migrated_database_matches_schema_module(tmp_path: Path) -> None:
    library = Library.open(tmp_path / "lib")
    with library.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    library.close()
    assert diff == []


def test_new_library_is_at_the_newest_migration_and_uses_wal(tmp_path: Path) -> None:
    library = Library.open(tmp_path / "lib")
    assert database.current_revision(library.engine) == database.head_revision()
    with library.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    library.close()


def test_reopening_an_up_to_date_library_writes_nothing(tmp_path: Path) -> None:
    Library.open(tmp_path / "lib").close()
    db = tmp_path / "lib" / "library.db"
    before = db.read_bytes()
    Library.open(tmp_path / "lib").close()
    assert db.read_bytes() == before


def test_storage_goes_through_sqlalchemy_urls(tmp_path: Path) -> None:
    # Another URL (a named file here; PostgreSQL in a team set-up) gets the same schema.
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    library = Library.open(tmp_path / "lib", url=url)
    names = set(sa.inspect(library.engine).get_table_names())
    library.close()
    assert set(metadata.tables) <= names
    assert (tmp_path / "elsewhere.db").exists()
