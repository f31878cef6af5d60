"""Fresh databases for tests: a SQLite file, or a new PostgreSQL database dropped afterwards."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api import migrate
from api.db import make_engine
from seed.load import seed_database

# The admin URL of a PostgreSQL server on which the tests may create and drop databases.
POSTGRES_ADMIN_URL = os.environ.get(
    "PAPERKG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DIALECTS = ["sqlite", "postgresql"]


def postgres_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # any failure to connect means: no server for us
        return f"no PostgreSQL at {make_url(POSTGRES_ADMIN_URL).render_as_string()}: {error}"
    return None


def require(dialect: str) -> None:
    if dialect != "postgresql":
        return
    reason = postgres_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required on CI: {reason}")
    pytest.skip(reason)


@contextmanager
def fresh_database(dialect: str, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of `dialect`, removed on exit."""
    require(dialect)
    if dialect == "sqlite":
        yield f"sqlite:///{tmp_path / f'paperkg-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"paperkg_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(url: str) -> None:
    """Migrate the database at `url` to head and seed it from the deck."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        seed_database(engine)
    finally:
        engine.dispose()


@contextmanager
def seeded_database(dialect: str, tmp_path: Path) -> Iterator[str]:
    """A URL to a database of `dialect` of its own, migrated and seeded, removed on exit."""
    with fresh_database(dialect, tmp_path) as url:
        seed(url)
        yield url
