"""`paperkg export`, `paperkg import` and `paperkg ingest`: the same functions as the API routes.

The command line is the operator: it needs no write key, and change rows it writes carry none.
"""

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from api import migrate as migrations
from api.db import make_engine, safe_url
from api.errors import ApiError
from api.queries import transfer, transfer_check, transfer_import, transfer_ingest
from api.settings import get_settings

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", envvar="PAPERKG_DATABASE_URL", help="SQLAlchemy database URL."),
]
LARGE_FILE = 1_000_000  # bytes: a progress bar from this size on
# SQLite's page cache for an import (KiB): a large restore writes the indexes of a million rows
# at random places, and the default 2 MB cache would write many pages to the WAL again and again.
IMPORT_CACHE_KIB = 128 * 1024


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@contextmanager
def _engine(database_url: str | None, *, migrate: bool) -> Iterator[Engine]:
    url = database_url or get_settings().database_url
    try:
        engine = make_engine(url)
        with engine.connect():
            pass
        if migrate:
            migrations.upgrade(engine)
    except (SQLAlchemyError, ValueError) as error:
        reason = getattr(error, "orig", None) or error
        raise _fail(f"Cannot use the database {safe_url(url)}: {reason}") from error
    try:
        yield engine
    finally:
        engine.dispose()


def export(
    file: Annotated[Path, typer.Argument(help="Where to write the document; - for stdout.")],
    database_url: DatabaseOption = None,
) -> None:
    """Write the whole graph as one JSON document (the format of GET /export)."""
    with _engine(database_url, migrate=False) as engine:
        chunks = transfer.open_export(engine)
        if str(file) == "-":
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        size = _write_atomically(file, chunks)
    typer.echo(f"Exported {size} bytes to {file}.", err=True)


def _write_atomically(file: Path, chunks: Iterator[bytes]) -> int:
    """Write to a temporary file beside `file`, then rename: never half a document."""
    handle, temporary = tempfile.mkstemp(dir=file.parent or Path("."), prefix=f".{file.name}.")
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                size += len(chunk)
        os.replace(temporary, file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return size


def import_(
    file: Annotated[Path, typer.Argument(help="A document written by export.", exists=True)],
    database_url: DatabaseOption = None,
) -> None:
    """Upsert a document in one transaction: all or nothing, with a report per kind.

    A document in export's layout is read as it is written, list by list, never whole."""
    try:
        lists = transfer_check.read_file(file)
    except transfer_check.NotJson as error:
        raise _fail(f"{file} is not JSON: {error}") from error
    except ApiError as error:
        raise _fail(f"Import failed, nothing was changed: {error.detail}") from error
    console = Console(stderr=True)
    bar = Progress(
        TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=True,
        disable=file.stat().st_size < LARGE_FILE or not console.is_terminal,
    )  # fmt: skip
    with _engine(database_url, migrate=True) as engine, bar:
        task = bar.add_task("importing", total=lists.size)

        def advance(stage: str, done: int) -> None:
            bar.update(task, advance=done, description=stage)

        try:
            with Session(engine) as session, session.begin():
                if engine.dialect.name == "sqlite":
                    # The write lock first, as the API's writes take it: nothing can come between
                    # what the import reads and what it writes.
                    session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                    session.connection().exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
                report = transfer_import.import_document(session, lists, progress=advance)
        except transfer_check.NotJson as error:
            raise _fail(f"{file} is not JSON: {error}; nothing was changed") from error
        except ApiError as error:
            raise _fail(f"Import failed, nothing was changed: {error.detail}") from error
    _print_import(report)


def _print_import(report: dict[str, Any]) -> None:
    if not report["changed"]:
        typer.echo(f"Nothing to change (data version {report['data_version']}).")
        return
    typer.echo(f"{'':<11}{'created':>9}{'updated':>9}{'unchanged':>11}")
    for name, counts in report.items():
        if isinstance(counts, dict):
            typer.echo(
                f"{name:<11}{counts['created']:>9}{counts['updated']:>9}{counts['unchanged']:>11}"
            )
    typer.echo(f"Data version {report['data_version']}.")


def ingest(
    deck: Annotated[Path, typer.Argument(help="The deck (reveal.js markdown).", exists=True)],
    overlay: Annotated[
        Path | None, typer.Option(help="Facts about it (YAML, the seed's format).", exists=True)
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Store a further deck: its slides, arXiv papers and overlay facts (checked quotes)."""
    with _engine(database_url, migrate=True) as engine:
        try:
            parsed = transfer_ingest.read_deck(deck.read_bytes(), deck.name)
            facts = transfer_ingest.read_overlay(overlay.read_bytes() if overlay else None)
            with Session(engine) as session, session.begin():
                report = transfer_ingest.ingest(session, parsed, facts)
        except ApiError as error:
            raise _fail(f"Ingest failed, nothing was changed: {error.detail}") from error
    if not report["changed"]:
        typer.echo(f"Deck {report['deck']}: nothing to change (data version "
                   f"{report['data_version']}).")  # fmt: skip
        return
    for what in ("created", "updated"):
        for kind, slugs in report[what].items():
            typer.echo(f"{what} {kind}: {', '.join(str(s) for s in slugs)}")
    typer.echo(f"Deck {report['deck']} ingested. Data version {report['data_version']}.")
