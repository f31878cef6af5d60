"""Engines and sessions. The only module that knows SQL dialects apart."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

from fastapi import Request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.errors import Unavailable

# What a query function runs on: a read route's Connection, or a write's Session (the same Core
# statements either way; a read has no use for the ORM's unit of work).
Db = Connection | OrmSession


def make_engine(url: str, *, busy_timeout_ms: int = 5000) -> Engine:
    """An engine for `url`; SQLite connections get WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(parsed, pool_pre_ping=True)
        event.listen(engine, "connect", _postgres_planner)
        return engine
    engine = create_engine(
        parsed,
        # The app uses a session per request from a thread pool; connections move between threads.
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if parsed.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return engine


def _postgres_planner(dbapi_connection: Any, _record: Any) -> None:
    """Planner settings for a graph read from memory (see bench/README.md).

    - `random_page_cost = 1.1`: a random read costs about a sequential one in memory; with the
      default 4 (a spinning disk) PostgreSQL hashes whole tables rather than make a few hundred
      primary-key reads.
    - `plan_cache_mode = force_custom_plan`: psycopg prepares a statement after 5 executions,
      and PostgreSQL may then plan it once for any parameters: a filter by lab became a walk of
      every model in date order (41 ms instead of 2 ms at 100k models). Plans stay per value.
    """
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET random_page_cost = 1.1")
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    dbapi_connection.autocommit = autocommit


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def safe_url(url: str | URL) -> str:
    """The URL as it can be shown to people: without its password."""
    return make_url(url).render_as_string(hide_password=True)


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# PostgreSQL's "try again" errors: serialization failure, deadlock, lock or statement timeout.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014"})
RETRY_AFTER_SECONDS = 1


def is_contention(error: OperationalError | DBAPIError) -> bool:
    """Is this the database saying "busy, try again" rather than a real failure?"""
    if "database is locked" in str(error.orig) or "database is busy" in str(error.orig):
        return True
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session that commits once if the block succeeded and rolls back on any error.

    On SQLite a write takes the write lock first (`BEGIN IMMEDIATE`), waiting up to the busy
    timeout for it. A deferred transaction that reads and then writes cannot wait: SQLite
    refuses its upgrade at once with "database is locked" when another writer got in between.
    If the database stays busy, the client gets a 503 with `Retry-After`, never the SQL error.
    """
    with Session(engine) as session:
        try:
            if write and is_sqlite(engine):
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session
            session.commit()
        except DBAPIError as error:
            session.rollback()
            if is_contention(error):
                raise busy() from error
            raise
        except BaseException:
            session.rollback()
            raise


def get_session(request: Request) -> Iterator[Session]:
    """The session dependency of plain `def` routes (run in the thread pool): the writes, and the
    reads that walk or stream much of the graph."""
    with session_scope(request.app.state.engine, write=request.method in WRITE_METHODS) as s:
        yield s


P = ParamSpec("P")
T = TypeVar("T")


def _read(
    engine: Engine, query: Callable[Concatenate[Db, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    try:
        with engine.connect() as connection:
            return query(connection, *args, **kwargs)
    except DBAPIError as error:
        if is_contention(error):
            raise busy() from error
        raise


async def read(
    request: Request,
    query: Callable[Concatenate[Db, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run `query(connection, ...)` for an `async def` read route, in the one place that decides
    where reads run.

    SQLite runs in this process, and in WAL mode a reader does not wait for writers: a page of
    indexed rows costs less CPU than the hop to the thread pool and back, and with one GIL a
    thread would not run it sooner. So SQLite reads run on the event loop, as a bare sqlite3 app
    would (measured in bench/README.md). Streams (CSV, NDJSON, /export, /graph) keep their own
    threads. PostgreSQL reads wait on a socket, so they go to the thread pool: one hop each.
    """
    engine: Engine = request.app.state.engine
    if is_sqlite(engine):
        return _read(engine, query, *args, **kwargs)
    return await run_in_threadpool(partial(_read, engine, query, *args, **kwargs))


def busy() -> Unavailable:
    unavailable = Unavailable("The database is busy; retry shortly.")
    unavailable.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return unavailable
