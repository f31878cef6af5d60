"""Fixtures: every API test runs on SQLite and on PostgreSQL, each migrated and seeded once."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from api.app import create_app
from api.db import make_engine
from api.settings import Settings
from tests.databases import DIALECTS, fresh_database, seeded_database


@pytest.fixture(scope="session", params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def seeded_url(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head and seeded from the deck, shared by the read-only tests."""
    with seeded_database(dialect, tmp_path_factory.mktemp(dialect)) as url:
        yield url


@pytest.fixture(scope="session")
def seeded_engine(seeded_url: str) -> Iterator[Engine]:
    engine = make_engine(seeded_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def client(seeded_url: str) -> Iterator[TestClient]:
    """An HTTP client on the ASGI app over the seeded database (read-only tests)."""
    with TestClient(create_app(Settings(database_url=seeded_url))) as test_client:
        yield test_client


@pytest.fixture
def empty_url(dialect: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the current dialect, for tests that write or migrate."""
    with fresh_database(dialect, tmp_path) as url:
        yield url


@pytest.fixture
def empty_engine(empty_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_url)
    yield engine
    engine.dispose()
