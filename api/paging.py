"""Keyset pagination, sorting and the list envelope shared by every collection.

A page is `ORDER BY <sort keys>, slug LIMIT n+1` with `WHERE (keys) > (cursor)` written out
column by column, so it walks an index and costs the same on page 1 and page 10,000. The cursor
is the last row's sort values, base64url-encoded JSON: opaque to clients, stable across requests.
"""

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

import orjson
from sqlalchemy import ColumnElement, Select, and_, false, or_
from starlette.requests import Request

from api.db import Db
from api.errors import InvalidParam

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class SortKey:
    name: str
    column: ColumnElement[Any]
    descending: bool = False

    def order(self) -> ColumnElement[Any]:
        # Ascending puts unknown values (NULL) last; descending is its exact mirror.
        return (
            self.column.desc().nulls_first() if self.descending else self.column.asc().nulls_last()
        )


def parse_sort(
    raw: str | None,
    allowed: Mapping[str, ColumnElement[Any]],
    *,
    default: str,
    tiebreak: tuple[str, ColumnElement[Any]],
) -> list[SortKey]:
    """`-release_date,name` -> sort keys over the whitelist, ending with the unique tiebreak."""
    keys: list[SortKey] = []
    for part in (raw or default).split(","):
        part = part.strip()
        name = part.removeprefix("-")
        if name not in allowed:
            choices = ", ".join(sorted(allowed))
            raise InvalidParam("sort", f"cannot sort by {name!r}; sortable fields: {choices}")
        if any(k.name == name for k in keys):
            raise InvalidParam("sort", f"{name!r} is given twice")
        keys.append(SortKey(name, allowed[name], part.startswith("-")))
    if keys[-1].name != tiebreak[0]:
        keys.append(SortKey(tiebreak[0], tiebreak[1]))
    return keys


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order of `keys` (NULLs last ascending)."""
    key, value = keys[0], values[0]
    column = key.column
    if key.descending:
        beyond = column.is_not(None) if value is None else column < value
    else:
        beyond = false() if value is None else or_(column > value, column.is_(None))
    if len(keys) == 1:
        return beyond
    same = column.is_(None) if value is None else column == value
    return or_(beyond, and_(same, _after(keys[1:], values[1:])))


def encode_cursor(values: Sequence[Any]) -> str:
    raw = orjson.dumps([v.isoformat() if isinstance(v, date) else v for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(raw: str, keys: Sequence[SortKey]) -> list[Any]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("wrong shape")
        return [_typed(key, value) for key, value in zip(keys, values, strict=True)]
    except (ValueError, binascii.Error, orjson.JSONDecodeError, TypeError) as error:
        raise InvalidParam(
            "cursor", "not a cursor of this listing; follow the `next` link as given"
        ) from error


def _typed(key: SortKey, value: Any) -> Any:
    if value is None:
        return None
    try:
        python_type = key.column.type.python_type
    except NotImplementedError:
        return value
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is bool:
        if not isinstance(value, bool):
            raise ValueError("not a boolean")
        return value
    if python_type in (int, float) and not isinstance(value, int | float):
        raise ValueError("not a number")
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise ValueError("out of range")
    if python_type is str and not isinstance(value, str):
        raise ValueError("not a string")
    return value


@dataclass
class PageResult:
    rows: list[Any]
    next_cursor: str | None


def sorted_select(stmt: Select[Any], keys: Sequence[SortKey]) -> Select[Any]:
    """`stmt` in the order of `keys`, with each key's value as a `_sort_{i}` column (the cursor)."""
    labels = [key.column.label(f"_sort_{i}") for i, key in enumerate(keys)]
    return stmt.add_columns(*labels).order_by(*(key.order() for key in keys))


def fetch_page(
    db: Db, stmt: Select[Any], keys: Sequence[SortKey], cursor: str | None, limit: int
) -> PageResult:
    """Run `stmt` (a `sorted_select` by `keys`) after `cursor`, for `limit` rows; note where the
    next page starts."""
    if cursor:
        stmt = stmt.where(_after(keys, decode_cursor(cursor, keys)))
    rows = list(db.execute(stmt.limit(limit + 1)).all())
    if len(rows) <= limit:
        return PageResult(rows, None)
    last = rows[limit - 1]._mapping
    next_values = [last[f"_sort_{i}"] for i in range(len(keys))]
    return PageResult(rows[:limit], encode_cursor(next_values))


def next_url(request: Request, cursor: str | None) -> str | None:
    """The request's own path and query with `cursor` replaced (relative, so proxies keep it)."""
    if cursor is None:
        return None
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    params.append(("cursor", cursor))
    return f"{request.url.path}?{urlencode(params)}"


def link_header(next_link: str | None) -> dict[str, str]:
    return {"Link": f'<{next_link}>; rel="next"'} if next_link else {}
