"""`paperkg backup FILE`: a consistent online copy of a SQLite database, made while it serves.

The copy is made with SQLite's online backup API (https://sqlite.org/backup.html) through the
standard library: it copies a snapshot of the database page by page, sees a consistent state
even while other processes write (WAL), and never blocks them for long. It is written to a
temporary file next to FILE, checked with `PRAGMA integrity_check`, and renamed into place, so
FILE is either a whole, checked copy or untouched.

PostgreSQL has its own tools: use `pg_dump` (see docs/reliability.md).
"""

import os
import sqlite3
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from api.db import safe_url
from api.settings import get_settings

PAGES_PER_STEP = 1024  # each step holds the read lock briefly; writers go on between steps


class BackupError(Exception):
    pass


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL, or a BackupError saying what to use instead."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(
            f"{safe_url(url)} is not SQLite: back up PostgreSQL with pg_dump "
            "(see docs/reliability.md)."
        )
    if parsed.database in (None, "", ":memory:"):
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    path = Path(parsed.database)
    if not path.is_file():
        raise BackupError(f"No database file at {path}.")
    return path


def backup_sqlite(url: str, destination: Path, *, overwrite: bool = False) -> int:
    """Copy the SQLite database at `url` to `destination`; returns the size in bytes."""
    source_path = sqlite_path(url)
    destination = destination.resolve()
    if destination == source_path.resolve():
        raise BackupError("The backup file is the database itself.")
    if destination.exists() and not overwrite:
        raise BackupError(f"{destination} exists already (use --force to replace it).")
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(source_path, timeout=30)  # the backup only reads from it
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target, pages=PAGES_PER_STEP)
            verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"The copy failed its integrity check: {verdict}")
            # The copy is a single self-contained file: no -wal beside it to lose.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
        partial.replace(destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    return destination.stat().st_size


def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the copy.")],
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", envvar="PAPERKG_DATABASE_URL", help="SQLAlchemy database URL."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
) -> None:
    """Copy a SQLite database consistently while it serves (restore: copy the file back)."""
    url = database_url or get_settings().database_url
    try:
        size = backup_sqlite(url, file, overwrite=force)
    except (BackupError, sqlite3.Error, OSError) as error:
        typer.secho(f"Backup failed: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from error
    typer.echo(f"Backed up {safe_url(url)} to {file} ({size} bytes).")
