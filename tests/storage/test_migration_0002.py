"""Migration 0002 (consent) on a library made before it: decisions get their order."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from reviewer.storage import database


def _at_0001(path: Path) -> sa.Engine:
    engine = database.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(database.alembic_config(conn), "0001")
    return engine


def test_upgrading_numbers_existing_decisions_in_the_order_they_were_made(tmp_path: Path) -> None:
    engine = _at_0001(tmp_path / "old.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO talents VALUES ('t', 'T', '2026-01-01T00:00:00Z')")
        conn.exec_driver_sql("INSERT INTO requests VALUES ('r', 't', 1, '2026-01-01T00:00:00Z')")
        conn.exec_driver_sql(
            "INSERT INTO revisions VALUES ('r', 1, 'd', 'm', '{}', 'c', 'b', 'n', 'o', "
            "'e@x.io', '[]', '[]', '[]', 0, '2027-01-01', '2027-02-01', '1.00', 'EUR', "
            "'2026-12-01', '2026-01-01T00:00:00Z', 'p')"
        )
        for decision_id, at in [
            ("b", "2026-02-01T10:00:00Z"),
            ("a", "2026-02-01T10:00:00Z"),
            ("c", "2026-01-15T09:00:00Z"),
        ]:
            conn.exec_driver_sql(
                "INSERT INTO decisions (id, request_id, revision, verdict, decided_by, "
                f"decided_at) VALUES ('{decision_id}', 'r', 1, 'rejected', 't', '{at}')"
            )
    database.upgrade(engine)
    with engine.connect() as conn:
        order = conn.exec_driver_sql("SELECT id FROM decisions ORDER BY seq").scalars().all()
        tables = set(sa.inspect(conn).get_table_names())
    assert order == ["c", "a", "b"]
    assert {"profiles", "talent_keys", "policies", "releases"} <= tables
    engine.dispose()


def test_the_consent_migration_can_be_undone(tmp_path: Path) -> None:
    engine = database.create_engine(f"sqlite:///{tmp_path / 'lib.db'}")
    database.upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(database.alembic_config(conn), "0001")
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        columns = {c["name"] for c in sa.inspect(conn).get_columns("decisions")}
    assert "profiles" not in tables and "seq" not in columns
    database.upgrade(engine)
    assert database.current_revision(engine) == database.head_revision()
    engine.dispose()
