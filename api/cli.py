"""The `paperkg` command: serve, migrate, seed, stats. It calls the same functions as the API."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from api import auth, bench_cli, graph_cli
from api import migrate as migrations
from api import transfer_cli as transfer_commands
from api.backup import backup
from api.db import make_engine, safe_url
from api.errors import ApiError
from api.queries import search
from api.queries import stats as stats_queries
from api.settings import get_settings
from models import tables as t
from seed import DECK_PATH, OVERLAY_PATH, REFERENCE_PATH
from seed.load import SeedReport, seed_database
from seed.plan import SeedError

app = typer.Typer(help="paperkg: a knowledge-graph API of open LLMs.", no_args_is_help=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", envvar="PAPERKG_DATABASE_URL", help="SQLAlchemy database URL."),
]


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@contextmanager
def _connected(database_url: str | None) -> Iterator[Engine]:
    """An engine that has been seen to connect, disposed of on exit."""
    url = database_url or get_settings().database_url
    try:
        engine = make_engine(url)
        with engine.connect():
            pass
    except (SQLAlchemyError, ValueError) as error:
        reason = getattr(error, "orig", None) or error
        raise _fail(f"Cannot reach the database {safe_url(url)}: {reason}") from error
    try:
        yield engine
    finally:
        engine.dispose()


def _migrate(engine: Engine) -> None:
    try:
        migrations.upgrade(engine)
    except SQLAlchemyError as error:
        raise _fail(f"Migration failed on {safe_url(engine.url)}: {error}") from error


def _seed(engine: Engine, deck: Path, overlay: Path | None, reference: Path | None) -> SeedReport:
    try:
        return seed_database(engine, deck_path=deck, overlay_path=overlay, reference_path=reference)
    except SeedError as error:
        raise _fail(f"Seed failed, nothing was changed: {error}") from error


def _fill_search_index(engine: Engine) -> None:
    """A database seeded before the search index existed gets its index built once."""
    with Session(engine) as session, session.begin():
        indexed = session.execute(select(func.count()).select_from(search.document)).scalar_one()
        if indexed == 0:
            search.refresh_search_index(session)


@app.command()
def migrate(database_url: DatabaseOption = None) -> None:
    """Bring the database schema to the newest revision."""
    with _connected(database_url) as engine:
        _migrate(engine)
        revision = migrations.current_revision(engine)
        typer.echo(f"{safe_url(engine.url)} is at revision {revision}")


@app.command()
def seed(
    database_url: DatabaseOption = None,
    deck: Annotated[Path, typer.Option(help="Slide deck (reveal.js markdown).")] = DECK_PATH,
    overlay: Annotated[Path | None, typer.Option(help="Curated overlay (YAML).")] = OVERLAY_PATH,
    reference: Annotated[Path | None, typer.Option(help="Reference facts.")] = REFERENCE_PATH,
) -> None:
    """Load the deck, its overlay and the reference facts (idempotent, all or nothing)."""
    with _connected(database_url) as engine:
        _migrate(engine)
        report = _seed(engine, deck, overlay, reference)
    if not report.changed:
        typer.echo(
            f"Seed of {report.deck}: nothing to change (data version {report.data_version})."
        )
        return
    changes = ", ".join(f"{n} {what}" for what, n in sorted(report.changes.items()))
    typer.echo(f"Seed of {report.deck}: {changes}. Data version {report.data_version}.")


@app.command()
def stats(
    database_url: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts per entity and per relation."""
    with _connected(database_url) as engine, Session(engine) as session:
        counts = stats_queries.graph_counts(session)
    if as_json:
        typer.echo(json.dumps(counts, indent=2))
        return
    typer.echo(f"data version  {counts['data_version']}")
    for group in ("entities", "relations"):
        typer.echo(f"{group}:")
        for name, value in counts[group].items():
            typer.echo(f"  {name:<14}{value:>6}")


app.command("graph")(graph_cli.graph)

keys_app = typer.Typer(help="Write keys: create, list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(bench_cli.app, name="bench")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    database_url: DatabaseOption = None,
) -> None:
    """Make a write key and print its secret once (only a salted hash is stored)."""
    with _connected(database_url) as engine:
        _migrate(engine)
        with Session(engine) as session, session.begin():
            try:
                secret = auth.create_key(session, name)
            except ApiError as error:
                raise _fail(error.detail) from error
    typer.echo(secret)
    typer.echo(f"Key {name!r} created. Keep the secret now: it cannot be shown again.", err=True)


@keys_app.command("list")
def keys_list(database_url: DatabaseOption = None) -> None:
    """The stored keys: name, created, revoked (never the secrets)."""
    with _connected(database_url) as engine, Session(engine) as session:
        for key in auth.list_keys(session):
            state = f"revoked {key['revoked_at']:%Y-%m-%d}" if key["revoked_at"] else "active"
            typer.echo(f"{key['name']:<24} created {key['created_at']:%Y-%m-%d}  {state}")


@keys_app.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Argument(help="The key to revoke.")],
    database_url: DatabaseOption = None,
) -> None:
    """Revoke a key: writes with it are refused from now on."""
    with _connected(database_url) as engine, Session(engine) as session, session.begin():
        try:
            auth.revoke_key(session, name)
        except ApiError as error:
            raise _fail(error.detail) from error
    typer.echo(f"Key {name!r} revoked.")


@app.command()
def serve(
    database_url: DatabaseOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Migrate, seed an empty database, then serve the API with uvicorn."""
    import uvicorn

    with _connected(database_url) as engine:
        _migrate(engine)
        with Session(engine) as session:
            empty = session.execute(select(func.count()).select_from(t.deck)).scalar_one() == 0
        if empty:
            report = _seed(engine, DECK_PATH, OVERLAY_PATH, REFERENCE_PATH)
            typer.echo(f"Seeded {report.deck} (data version {report.data_version}).")
        else:
            _fill_search_index(engine)
    if database_url:
        os.environ["PAPERKG_DATABASE_URL"] = database_url  # the workers read their settings anew
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=get_settings().log_level,
        server_header=False,
    )


app.command("backup")(backup)


app.command("export")(transfer_commands.export)
app.command("import")(transfer_commands.import_)
app.command("ingest")(transfer_commands.ingest)


if __name__ == "__main__":  # pragma: no cover
    app()
