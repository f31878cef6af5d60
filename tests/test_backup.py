"""`paperkg backup FILE`: a consistent copy of a SQLite database taken while it is written."""

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session
from starlette.testclient import TestClient
from typer.testing import CliRunner

from api import migrate
from api.app import create_app
from api.cli import app
from api.db import make_engine
from api.queries import writes
from api.settings import Settings
from models.writes import LabWrite
from tests.databases import seed

runner = CliRunner()
pytestmark = pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)


def keep_writing(url: str, stop: threading.Event, written: list[int]) -> None:
    """Creates labs through the write engine, one transaction each, until told to stop."""
    engine = make_engine(url)
    try:
        for n in range(5000):
            if stop.is_set():
                return
            with Session(engine) as session, session.begin():
                writes.create(session, "lab", LabWrite(slug=f"busy-{n}", name=f"Busy {n}"), "t")
            written.append(n)
    finally:
        engine.dispose()


def table_contents(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            names = [
                n for n in inspect(connection).get_table_names() if not n.startswith("search_fts")
            ]
            return {
                name: sorted(
                    map(tuple, connection.execute(text(f'SELECT * FROM "{name}"'))), key=repr
                )
                for name in names
            }
    finally:
        engine.dispose()


def test_backup_while_writing_is_consistent_and_restores_identically(
    empty_url: str, tmp_path: Path
) -> None:
    seed(empty_url)
    stop, written = threading.Event(), list[int]()
    thread = threading.Thread(target=keep_writing, args=(empty_url, stop, written))
    thread.start()
    try:
        while len(written) < 20 and thread.is_alive():
            stop.wait(0.01)
        during = tmp_path / "during.db"
        result = runner.invoke(app, ["backup", str(during), "--database-url", empty_url])
        assert result.exit_code == 0, result.output
    finally:
        stop.set()
        thread.join(timeout=60)
    assert len(written) >= 20
    with sqlite3.connect(during) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        version = copy.execute("SELECT version FROM data_version").fetchone()[0]
        busy = copy.execute("SELECT count(*) FROM lab WHERE slug LIKE 'busy-%'").fetchone()[0]
    assert version == 1 + busy  # one snapshot: each write's lab and version bump, or neither
    assert 20 <= busy <= len(written)

    after = tmp_path / "after.db"
    assert runner.invoke(app, ["backup", str(after), "--database-url", empty_url]).exit_code == 0
    restored = tmp_path / "restored.db"
    shutil.copy(after, restored)  # restoring is copying the file back
    restored_url = f"sqlite:///{restored}"
    assert table_contents(restored_url) == table_contents(empty_url)
    responses = []
    for url in (empty_url, restored_url):
        with TestClient(create_app(Settings(database_url=url))) as client:
            paths = client.get("/openapi.json").json()["paths"]
            pages = ["/export"] if "/export" in paths else ["/labs?limit=500", "/models?limit=500"]
            responses.append([client.get(page).content for page in pages + ["/stats"]])
    assert responses[0] == responses[1]


def test_backup_refuses_what_it_cannot_do(empty_url: str, tmp_path: Path) -> None:
    engine = make_engine(empty_url)
    migrate.upgrade(engine)
    engine.dispose()
    target = tmp_path / "copy.db"
    assert runner.invoke(app, ["backup", str(target), "--database-url", empty_url]).exit_code == 0
    again = runner.invoke(app, ["backup", str(target), "--database-url", empty_url])
    assert again.exit_code == 1 and "exists" in again.output
    forced = ["backup", str(target), "--force", "--database-url", empty_url]
    assert runner.invoke(app, forced).exit_code == 0
    postgres = "postgresql+psycopg://u:hunter2@127.0.0.1:1/db"
    refused = runner.invoke(app, ["backup", str(tmp_path / "pg.db"), "--database-url", postgres])
    assert refused.exit_code == 1 and "pg_dump" in refused.output
    assert "hunter2" not in refused.output
    missing = f"sqlite:///{tmp_path / 'nope.db'}"
    assert (
        runner.invoke(app, ["backup", str(tmp_path / "x.db"), "--database-url", missing]).exit_code
        == 1
    )
    assert not (tmp_path / "x.db").exists()
