"""Upgrades keep data: from every earlier revision to head, on a database full of rows.

For each revision before head, a fresh database is migrated to it and filled with the seeded
graph's rows (the columns that revision has), then upgraded to head: every row is still there,
with the same values.
"""

from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, Table, select

from api import migrate
from api.db import make_engine
from tests.databases import fresh_database

SKIPPED = ("alembic_version", "search_fts")  # the version stamp; SQLite's FTS shadow tables
FOREIGN_KEYS_OFF_ON = {
    "sqlite": ("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = ON"),
    "postgresql": (
        "SET session_replication_role = replica",
        "SET session_replication_role = DEFAULT",
    ),
}


def earlier_revisions(engine: Engine) -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config(engine))
    head = script.get_current_head()
    return [r.revision for r in script.walk_revisions() if r.revision != head]


def copyable(connection: Connection) -> list[Table]:
    metadata = MetaData()
    metadata.reflect(connection)
    return [t for t in metadata.sorted_tables if not t.name.startswith(SKIPPED)]


def rows(connection: Connection, table: Table, columns: list[str]) -> list[tuple[Any, ...]]:
    statement = select(*(table.c[c] for c in columns))
    return sorted((tuple(r) for r in connection.execute(statement)), key=repr)


def fill(source: Connection, target: Connection) -> dict[str, tuple[list[str], list[Any]]]:
    """Copy the source's rows into the target's tables (the columns they share)."""
    wanted = {t.name: t for t in copyable(source)}
    # Lineage rows may name a later row: foreign keys are checked once all rows are in.
    off, on = FOREIGN_KEYS_OFF_ON[target.dialect.name]
    target.exec_driver_sql(off)
    target.commit()  # (a SQLite PRAGMA foreign_keys only works outside a transaction)
    copied = {}
    tables = copyable(target)
    for table in reversed(tables):  # rows the migrations made themselves (the version row)
        target.execute(table.delete())
    for table in tables:
        if table.name not in wanted:
            continue
        columns = [c.name for c in table.columns if c.name in wanted[table.name].c]
        data = rows(source, wanted[table.name], columns)
        if data:
            target.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in data])
        copied[table.name] = (columns, data)
    target.commit()
    target.exec_driver_sql(on)
    target.commit()
    return copied


def test_upgrade_from_every_revision_keeps_every_row(
    seeded_url: str, dialect: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    reference = make_engine(seeded_url)
    revisions = earlier_revisions(reference)
    assert revisions, "there is no earlier revision to upgrade from"
    for revision in revisions:
        with fresh_database(dialect, tmp_path_factory.mktemp("upgrade")) as url:
            engine = make_engine(url)
            migrate.upgrade(engine, revision)
            with reference.connect() as source, engine.connect() as target:
                copied = fill(source, target)
                if dialect == "sqlite":
                    assert target.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert sum(len(data) for _, data in copied.values()) > 100, revision
            migrate.upgrade(engine)
            assert migrate.current_revision(engine) == migrate.head_revision()
            with engine.connect() as connection:
                tables = {t.name: t for t in copyable(connection)}
                for name, (columns, data) in copied.items():
                    assert rows(connection, tables[name], columns) == data, (revision, name)
            engine.dispose()
    reference.dispose()
