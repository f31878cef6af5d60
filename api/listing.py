"""One engine behind every collection: filter, sort, page, expand, project, group, stream.

A collection is described once (`Collection`): its base select, sortable columns, how a row
becomes an item, what `include=` can expand and what `group_by=` can count. Routes only add
their filters. Nothing here is specific to an entity kind.
"""

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import Request
from sqlalchemy import ColumnElement, Select, func
from sqlalchemy.engine import RowMapping
from starlette.responses import Response, StreamingResponse

from api.db import Db, read
from api.errors import InvalidParam
from api.paging import (
    MAX_LIMIT,
    SortKey,
    decode_cursor,
    fetch_page,
    link_header,
    next_url,
    parse_sort,
    sorted_select,
)
from api.params import ListQuery
from api.queries.common import sources_of
from api.responses import JSON

Item = dict[str, Any]
SORTED_CACHE_SIZE = 64
Expander = Callable[[Db, list[Item], list[RowMapping]], None]


@dataclass(frozen=True)
class Group:
    key: ColumnElement[Any]
    label: ColumnElement[Any]


@dataclass(frozen=True)
class Collection:
    kind: str
    base: Callable[[], Select[Any]]
    sorts: Mapping[str, ColumnElement[Any]]
    default_sort: str
    tiebreak: tuple[str, ColumnElement[Any]]
    item: Callable[[RowMapping], Item]
    id_column: ColumnElement[Any]
    includes: Mapping[str, Expander] = field(default_factory=dict)
    groups: Mapping[str, Group] = field(default_factory=dict)
    # Sorted selects by sort order: building one costs more than running it on a small page.
    _sorted: dict[tuple[tuple[str, bool], ...], Select[Any]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def sorted_base(self, keys: list[SortKey]) -> Select[Any]:
        """`base()` in the order of `keys`, built once per order (a Select is immutable)."""
        order = tuple((key.name, key.descending) for key in keys)
        stmt = self._sorted.get(order)
        if stmt is None:
            stmt = sorted_select(self.base(), keys)
            if len(self._sorted) < SORTED_CACHE_SIZE:  # orders are client-chosen: keep a bound
                self._sorted[order] = stmt
        return stmt


async def list_page(
    request: Request,
    collection: Collection,
    query: ListQuery,
    where: Sequence[ColumnElement[bool]] = (),
) -> Response:
    """`list_response` for an `async def` route, on a connection of its own (api.db.read)."""
    return await read(request, list_response, request, collection, query, where)


def list_response(
    db: Db,
    request: Request,
    collection: Collection,
    query: ListQuery,
    where: Sequence[ColumnElement[bool]] = (),
) -> Response:
    """The answer to a list request: a page, buckets, or a CSV / NDJSON stream."""
    _check_includes(collection, query.include)
    if query.group_by is not None:
        counts = group_counts(db, collection, collection.base().where(*where), query.group_by)
        return JSON({"items": counts, "next": None})
    keys = parse_sort(
        query.sort, collection.sorts, default=collection.default_sort, tiebreak=collection.tiebreak
    )
    stmt = collection.sorted_base(keys).where(*where)
    fmt = query.format or _negotiate(request)
    if fmt in ("csv", "ndjson"):
        return _stream(request, collection, stmt, keys, query, fmt)
    page = fetch_page(db, stmt, keys, query.cursor, query.limit)
    items = build_items(db, collection, [r._mapping for r in page.rows], query)
    link = next_url(request, page.next_cursor)
    return JSON({"items": items, "next": link}, headers=link_header(link))


def build_items(
    db: Db, collection: Collection, rows: list[RowMapping], query: ListQuery
) -> list[Item]:
    items = [collection.item(row) for row in rows]
    for name in query.include or ():
        if name == "sources":
            _include_sources(db, collection, items, rows)
        else:
            collection.includes[name](db, items, rows)
    if query.fields:
        return [project(item, query.fields) for item in items]
    return items


def _check_includes(collection: Collection, include: list[str] | None) -> None:
    allowed = sorted([*collection.includes, "sources"])
    for name in include or ():
        if name not in allowed:
            raise InvalidParam(
                "include", f"cannot include {name!r}; choose from {', '.join(allowed)}"
            )


def _include_sources(
    db: Db, collection: Collection, items: list[Item], rows: list[RowMapping]
) -> None:
    index = sources_of(db, collection.kind, [row["id"] for row in rows])
    for item, row in zip(items, rows, strict=True):
        item["sources"] = [source for _, _, source in index.get(row["id"], [])]


def project(item: Item, fields: list[str]) -> Item:
    """Keep only `fields`; `lab.name` keeps that key inside the `lab` link."""
    out: Item = {}
    for path in fields:
        head, _, rest = path.partition(".")
        if head not in item:
            raise InvalidParam("fields", f"no field {head!r}; fields: {', '.join(item)}")
        value = item[head]
        if not rest:
            out[head] = value
        elif isinstance(value, dict):
            nested = out.setdefault(head, {})
            nested.update(project(value, [rest]))
        elif value is None:
            out.setdefault(head, None)
        else:
            raise InvalidParam("fields", f"{head!r} has no field {rest!r}")
    return out


def group_counts(db: Db, collection: Collection, stmt: Select[Any], name: str) -> list[Item]:
    """Exact counts per bucket, in key order."""
    group = collection.groups.get(name)
    if group is None:
        allowed = ", ".join(sorted(collection.groups)) or "nothing"
        raise InvalidParam("group_by", f"cannot group by {name!r}; choose from {allowed}")
    count = func.count(func.distinct(collection.id_column))
    counted = (
        stmt.with_only_columns(group.key.label("key"), group.label.label("label"), count)
        .group_by(group.key, group.label)
        .order_by(group.key.asc().nulls_last())
    )
    return [{"key": key, "label": label, "count": n} for key, label, n in db.execute(counted)]


def _negotiate(request: Request) -> str:
    accept = request.headers.get("accept", "")
    if "text/csv" in accept:
        return "csv"
    if "application/x-ndjson" in accept or "application/ndjson" in accept:
        return "ndjson"
    return "json"


def _stream(
    request: Request,
    collection: Collection,
    stmt: Select[Any],
    keys: list[SortKey],
    query: ListQuery,
    fmt: str,
) -> Response:
    """Every matching row after `cursor`, fetched a page at a time: constant memory."""
    engine = request.app.state.engine
    if query.cursor:
        decode_cursor(query.cursor, keys)  # a bad cursor is a 422 now, not an error mid-stream

    def pages() -> Iterator[list[Item]]:
        # The request's connection is closed once the handler returns; the stream has its own.
        with engine.connect() as db:
            cursor = query.cursor
            while True:
                page = fetch_page(db, stmt, keys, cursor, MAX_LIMIT)
                yield build_items(db, collection, [r._mapping for r in page.rows], query)
                if page.next_cursor is None:
                    return
                cursor = page.next_cursor

    if fmt == "ndjson":
        lines = (orjson.dumps(item) + b"\n" for page in pages() for item in page)
        return StreamingResponse(lines, media_type="application/x-ndjson")
    return StreamingResponse(_csv_lines(pages()), media_type="text/csv; charset=utf-8")


def flatten(item: Item, prefix: str = "") -> dict[str, Any]:
    """Nested links become dot columns; lists become `|`-joined slugs or values."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = "|".join(
                str(v.get("slug", v.get("quote", ""))) if isinstance(v, dict) else str(v)
                for v in value
            )
        else:
            flat[name] = value
    return flat


def _csv_lines(pages: Iterator[list[Item]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    for page in pages:
        rows = [flatten(item) for item in page]
        if writer is None:
            # Columns: the union over the first page, so a null link in row one loses nothing.
            columns = list(dict.fromkeys(name for row in rows for name in row))
            writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
        writer.writerows(rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
