"""The data version as every worker sees it, and a bounded store of encoded responses.

Every write bumps the single `data_version` row in the same transaction, so a response made at
version V stays right until the version moves. Each request asks the database for the current
version before anything else, which is what keeps every worker process coherent with a write
made by any other one. That read must cost next to nothing:

- SQLite: `PRAGMA data_version` on a connection of our own changes whenever another connection
  has committed (https://sqlite.org/pragma.html#pragma_data_version). It costs about a
  microsecond; the version row is read again only when it has changed.
- PostgreSQL: one `SELECT version FROM data_version` serves every request that arrived before
  it started. Requests that arrive while a read is in flight wait for the next one, so none is
  answered from a read older than itself, and a busy worker sends one query per round trip
  rather than one per request.
- Anything else (an in-memory SQLite database): the row, read through the engine each time.
"""

import asyncio
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine, text

VERSION_SQL = "SELECT version FROM data_version"


class VersionSource(Protocol):
    async def current(self) -> int | None:
        """The data version now, or None when the database cannot say (answer uncached)."""
        ...

    async def close(self) -> None: ...


def version_source(engine: Engine) -> VersionSource:
    """The cheapest correct way to read the data version on this engine's database."""
    name, database = engine.dialect.name, engine.url.database
    if name == "sqlite" and database not in (None, "", ":memory:"):
        return SqliteVersion(engine)
    if name == "postgresql" and engine.dialect.driver == "psycopg":
        return PostgresVersion(engine)
    return EngineVersion(engine)


class EngineVersion:
    """The version row read through the engine's pool, every time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def current(self) -> int | None:
        try:
            with self.engine.connect() as connection:
                return int(connection.execute(text(VERSION_SQL)).scalar_one())
        except Exception:  # the route will answer the real error as problem+json
            return None

    async def close(self) -> None:
        return None


class SqliteVersion:
    """`PRAGMA data_version` on a connection of our own; the row only when that moved."""

    def __init__(self, engine: Engine) -> None:
        # A connection made by the engine (so with its pragmas), detached: it never goes back
        # to the pool, and its statements bypass the engine's events and statement counts.
        pooled = engine.raw_connection()
        self._db: Any = pooled.driver_connection
        pooled.detach()
        self._pooled = pooled
        self._lock = threading.Lock()  # the app may be driven from more than one thread
        self._seen: int | None = None
        self._version: int | None = None

    async def current(self) -> int | None:
        with self._lock:
            try:
                seen = self._db.execute("PRAGMA data_version").fetchone()[0]
                if seen != self._seen or self._version is None:
                    # Read after the pragma: a commit in between only makes the next check miss.
                    self._version = int(self._db.execute(VERSION_SQL).fetchone()[0])
                    self._seen = seen
                return self._version
            except Exception:
                self._seen = self._version = None
                return None

    async def close(self) -> None:
        with self._lock:
            self._pooled.close()


class PostgresVersion:
    """One version read per round trip, shared by the requests that arrived before it began."""

    def __init__(self, engine: Engine) -> None:
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._connection: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next: asyncio.Future[int | None] | None = None
        self._reader: asyncio.Task[None] | None = None

    async def current(self) -> int | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests): nothing of the old one is usable
            self._loop, self._connection, self._next, self._reader = loop, None, None, None
        if self._next is None:
            self._next = loop.create_future()
        waiting = self._next
        if self._reader is None:
            self._reader = loop.create_task(self._read_for_waiters())
        # Shielded: one cancelled request must not cancel the answer the others wait for.
        return await asyncio.shield(waiting)

    async def _read_for_waiters(self) -> None:
        try:
            while self._next is not None:
                waiting, self._next = self._next, None
                version = await self._read()
                if not waiting.done():
                    waiting.set_result(version)
        finally:
            self._reader = None

    async def _read(self) -> int | None:
        import psycopg

        try:
            if self._connection is None or self._connection.closed:
                self._connection = await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                )
            cursor = await self._connection.execute(VERSION_SQL, prepare=True)
            row = await cursor.fetchone()
            return int(row[0]) if row else None
        except Exception:
            await self.close()
            return None

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:
                pass


@dataclass(frozen=True)
class Entry:
    """An encoded 200 response: its raw ASGI headers (ETag included) and its body."""

    etag: str
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers)


Key = tuple[str, str, bytes, bytes]


class ResponseCache:
    """Entries of one data version, least recently used dropped first, bounded in count and bytes.

    When a newer version is seen, every entry is dropped at once: none can be served again.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        # One entry may take a sixteenth of the cache; larger answers are not kept.
        self.max_entry_bytes = max(1, max_bytes // 16)
        self.version: int | None = None
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Key, Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key, version: int) -> Entry | None:
        if version != self.version:
            self.clear(version)
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: Key, version: int, entry: Entry) -> bool:
        """Keep `entry` if it was made at the current version and fits; say whether it was kept."""
        size = entry.size
        if version != self.version or size > self.max_entry_bytes:
            return False
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old.size
        self._entries[key] = entry
        self.bytes += size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self.bytes -= dropped.size
        return True

    def clear(self, version: int | None = None) -> None:
        self._entries.clear()
        self.bytes = 0
        self.version = version
