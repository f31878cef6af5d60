"""Parsing of the query parameters every collection shares: lists, dates, sort, paging, shaping."""

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, Query

from api.errors import InvalidParam
from api.paging import DEFAULT_LIMIT, MAX_LIMIT
from models.base import parse_reduced_date

Format = Literal["json", "csv", "ndjson"]


def csv_values(raw: str | None) -> list[str] | None:
    """`meta,google-deepmind` -> ["meta", "google-deepmind"]; blank items are dropped."""
    if raw is None:
        return None
    values = [v.strip() for v in raw.split(",") if v.strip()]
    return values or None


def choices(name: str, raw: str | None, allowed: tuple[str, ...] | list[str]) -> list[str] | None:
    """Comma-separated values that must each be one of `allowed` (422 naming `name` otherwise)."""
    values = csv_values(raw)
    for value in values or []:
        if value not in allowed:
            raise InvalidParam(
                name, f"unknown value {value!r}; expected one of {', '.join(allowed)}"
            )
    return values


def date_bound(name: str, raw: str | None, *, end: bool = False) -> date | None:
    """`2024`, `2024-06` or `2024-06-15`; as an upper bound a year or month reaches its last day."""
    if raw is None or not raw.strip():
        return None
    try:
        value, precision = parse_reduced_date(raw)
    except ValueError as error:
        raise InvalidParam(name, f"{raw!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)") from error
    if end and precision == "year":
        return date(value.year, 12, 31)
    if end and precision == "month":
        return date(value.year, value.month, calendar.monthrange(value.year, value.month)[1])
    return value


def year_range(raw: int | None) -> tuple[date, date] | None:
    return (date(raw, 1, 1), date(raw, 12, 31)) if raw is not None else None


@dataclass(frozen=True)
class ListQuery:
    sort: str | None
    cursor: str | None
    limit: int
    include: list[str] | None
    fields: list[str] | None
    group_by: str | None
    format: Format | None


async def list_query(
    sort: Annotated[
        str | None,
        Query(description="Comma-separated fields, `-` for descending: `-release_date,name`."),
    ] = None,
    cursor: Annotated[
        str | None, Query(description="Opaque: copy it from `next` or the `Link` header.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
    include: Annotated[
        str | None, Query(description="Expand links: `lab,paper,techniques` (one query per kind).")
    ] = None,
    fields: Annotated[
        str | None, Query(description="Only these fields; dot paths reach links: `slug,lab.name`.")
    ] = None,
    group_by: Annotated[
        str | None, Query(description="Return `{key, label, count}` buckets instead of items.")
    ] = None,
    format: Annotated[
        Format | None,
        Query(description="`csv` or `ndjson` stream every matching row (or use `Accept`)."),
    ] = None,
) -> ListQuery:
    return ListQuery(
        sort=sort,
        cursor=cursor,
        limit=limit,
        include=csv_values(include),
        fields=csv_values(fields),
        group_by=group_by,
        format=format,
    )


ListDep = Annotated[ListQuery, Depends(list_query)]
