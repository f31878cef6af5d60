"""The timeline: one date-ordered stream of releases, papers and proposed techniques."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from api.db import read
from api.errors import InvalidParam
from api.paging import DEFAULT_LIMIT, MAX_LIMIT, link_header, next_url
from api.params import choices, csv_values, date_bound
from api.queries import timeline as timeline_queries
from api.responses import JSON
from api.routes.docs import errors
from models.schemas import Page
from models.timeline import TimelineEvent, TimelineGroups

router = APIRouter(tags=["timeline"])

DESCRIPTION = """
What happened when, as one stream of events of three kinds:

* `model`: a model was released (its `release_date`);
* `paper`: a paper was published (its `published_date`);
* `technique`: a technique was proposed (the date of the paper that first proposed it;
  a technique whose origin is not verified has no event).

Events are sorted by date, then kind (`model`, `paper`, `technique`), then slug; `order=desc`
reverses the whole order. A date known only to the year or the month (`date_precision` `year`
or `month`) is written `2023` or `2023-07` and sorts, and filters, as its first day.

Without `group`, the answer is one page: follow `next` (also in the `Link` header) for more.
With `group=year` or `group=month`, every matching event (up to 5,000; `truncated` says when
more matched) comes in buckets, and `cursor` and `limit` do not apply. An event known only to
the year gets its own year bucket when grouping by month.
"""

Order = Literal["asc", "desc"]
Group = Literal["year", "month"]


@router.get(
    "/timeline",
    response_model=Page[TimelineEvent] | TimelineGroups,
    summary="What happened when: releases, papers and proposed techniques by date",
    description=DESCRIPTION,
    responses=errors(),
)
async def read_timeline(
    request: Request,
    from_: Annotated[
        str | None,
        Query(alias="from", description="First date: `2023`, `2023-07` or `2023-07-18`."),
    ] = None,
    to: Annotated[
        str | None,
        Query(description="Last date, inclusive: `to=2024` reaches 2024-12-31."),
    ] = None,
    lab: Annotated[
        str | None,
        Query(description="Lab slugs, comma-separated: the lab's models, papers and proposals."),
    ] = None,
    kind: Annotated[
        str | None, Query(description="Event kinds, comma-separated: `model,paper,technique`.")
    ] = None,
    technique: Annotated[
        str | None,
        Query(
            description="Technique slugs, comma-separated: the proposal, its paper and the "
            "releases of the models that use it."
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        Query(
            description="The timeline as it stood on this date: only what happened by then "
            "(`as_of=2024-06` reaches 2024-06-30)."
        ),
    ] = None,
    order: Annotated[Order, Query(description="`asc` (oldest first) or `desc`.")] = "asc",
    group: Annotated[Group | None, Query(description="Buckets by `year` or `month`.")] = None,
    cursor: Annotated[
        str | None, Query(description="Opaque: copy it from `next` or the `Link` header.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Events per page.")] = (
        DEFAULT_LIMIT
    ),
) -> JSON:
    """Releases, papers and technique proposals in one date-ordered stream, filterable."""
    start = date_bound("from", from_)
    end = date_bound("to", to, end=True)
    if start is not None and end is not None and end < start:
        raise InvalidParam("to", f"{to!r} is before from={from_!r}")
    cutoff = date_bound("as_of", as_of, end=True)
    if cutoff is not None:
        end = cutoff if end is None else min(end, cutoff)
    where = timeline_queries.EventFilter(
        start=start,
        end=end,
        labs=csv_values(lab),
        kinds=choices("kind", kind, timeline_queries.KINDS),
        techniques=csv_values(technique),
        descending=order == "desc",
    )
    if group is not None:
        if cursor is not None:
            raise InvalidParam("cursor", "a grouped timeline is one answer; drop `cursor`")
        groups, truncated = await read(
            request, timeline_queries.timeline_groups, where=where, by=group
        )
        return JSON({"items": groups, "next": None, "truncated": truncated})
    events, next_cursor = await read(
        request, timeline_queries.timeline_page, where=where, cursor=cursor, limit=limit
    )
    link = next_url(request, next_cursor)
    return JSON({"items": events, "next": link}, headers=link_header(link))
