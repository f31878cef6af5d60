"""The timeline: models released, papers published and techniques proposed, in date order.

All three kinds of event come from one `UNION ALL` of selects with the same columns. For a page,
each kind is filtered, cut at the cursor, sorted by (date, slug) and limited on its own, so it
walks its index and stops after a page; the merge then sorts at most three pages. The cost of a
page stays the same however many models and papers there are.
"""

import calendar
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Select,
    String,
    Subquery,
    bindparam,
    false,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)

from api.db import Db
from api.errors import InvalidParam
from api.paging import SortKey, decode_cursor, encode_cursor
from api.queries.common import iso, link, url_of
from models import tables as t

KINDS = ("model", "paper", "technique")
VERBS = {"model": "released", "paper": "published", "technique": "proposed"}
GROUP_CAP = 5000  # a grouped answer holds every matching event up to this many
SUMMARY_MAX = 160


def _kind(name: str) -> ColumnElement[str]:
    # Inline SQL text, not a bound parameter: both databases then type the column as text.
    return literal_column(f"'{name}'", String).label("kind")


Arm = tuple[str, Select[Any], ColumnElement[Any], ColumnElement[Any]]  # kind, select, date, slug


def _arms() -> list[Arm]:
    """One select per kind of event, with the stream's columns, its date and its slug."""
    m, p, tech, lab = t.model, t.paper, t.technique, t.lab
    models = (
        select(
            m.c.release_date.label("date"),
            m.c.date_precision,
            _kind("model"),
            m.c.id.label("entity_id"),
            m.c.slug,
            m.c.name,
            m.c.summary,
            literal_column("NULL", String).label("authors"),
            lab.c.slug.label("lab_slug"),
            lab.c.name.label("lab_name"),
        )
        .outerjoin(lab, lab.c.id == m.c.lab_id)
        .where(m.c.release_date.is_not(None))
    )
    papers = (
        select(
            p.c.published_date.label("date"),
            p.c.date_precision,
            _kind("paper"),
            p.c.id.label("entity_id"),
            p.c.slug,
            p.c.title.label("name"),
            p.c.key_idea.label("summary"),
            p.c.authors,
            lab.c.slug.label("lab_slug"),
            lab.c.name.label("lab_name"),
        )
        .outerjoin(lab, lab.c.id == p.c.lab_id)
        .where(p.c.published_date.is_not(None))
    )
    # A technique is proposed when its proposing paper is published; without one, no event.
    techniques = (
        select(
            p.c.published_date.label("date"),
            p.c.date_precision,
            _kind("technique"),
            tech.c.id.label("entity_id"),
            tech.c.slug,
            tech.c.name,
            tech.c.description.label("summary"),
            literal_column("NULL", String).label("authors"),
            lab.c.slug.label("lab_slug"),
            lab.c.name.label("lab_name"),
        )
        .join(p, p.c.id == tech.c.proposed_in_id)
        .outerjoin(lab, lab.c.id == p.c.lab_id)
        .where(p.c.published_date.is_not(None))
    )
    return [
        ("model", models, m.c.release_date, m.c.slug),
        ("paper", papers, p.c.published_date, p.c.slug),
        ("technique", techniques, p.c.published_date, tech.c.slug),
    ]


def event_stream() -> Subquery:
    """Every dated event, one row each: date, precision, kind, entity, summary and lab."""
    return union_all(*(arm for _, arm, _, _ in _arms())).subquery("event")


def _about_techniques(kind: str) -> ColumnElement[bool]:
    """A technique's proposal, the models that use (or introduced) it and its proposing paper;
    the techniques' slugs are the `techniques` parameter."""
    tech, mt = t.technique, t.model_technique
    slugs: BindParameter[list[str]] = bindparam("techniques", expanding=True)
    if kind == "technique":
        return tech.c.slug.in_(slugs)
    if kind == "model":
        users = (
            select(mt.c.model_id)
            .join(tech, tech.c.id == mt.c.technique_id)
            .where(tech.c.slug.in_(slugs), mt.c.relation == "uses")
        )
        return t.model.c.id.in_(users)
    proposals = select(tech.c.proposed_in_id).where(
        tech.c.slug.in_(slugs), tech.c.proposed_in_id.is_not(None)
    )
    return t.paper.c.id.in_(proposals)


@dataclass(frozen=True)
class EventFilter:
    """Which events, in which direction: every field optional, all of them must hold."""

    start: date | None = None
    end: date | None = None
    labs: list[str] | None = None
    kinds: list[str] | None = None
    techniques: list[str] | None = None
    descending: bool = False


def _keys(e: Subquery, descending: bool) -> list[SortKey]:
    # (date, kind, slug) is unique, so the keyset walk neither skips nor repeats an event.
    return [SortKey(name, e.c[name], descending) for name in ("date", "kind", "slug")]


KEYS = {descending: _keys(event_stream(), descending) for descending in (False, True)}


def _after(
    kind: str, day: ColumnElement[Any], slug: ColumnElement[Any], at_kind: str, descending: bool
) -> ColumnElement[bool]:
    """Events of one kind past the cursor (`at_date`, `at_kind`, `at_slug`); `kind` is constant."""
    at_date, at_slug = bindparam("at_date", type_=Date), bindparam("at_slug", type_=String)
    later = operator.lt if descending else operator.gt
    if kind == at_kind:
        past: ColumnElement[bool] = later(tuple_(day, slug), tuple_(at_date, at_slug))
        return past
    # On the cursor's date, another kind sorts wholly before or wholly after this one.
    if later(kind, at_kind):
        return or_(later(day, at_date), day == at_date)
    same_day_excluded: ColumnElement[bool] = later(day, at_date)
    return same_day_excluded


@dataclass(frozen=True)
class Shape:
    """What decides the SQL of a page; the values themselves travel as bound parameters."""

    kinds: tuple[str, ...]
    start: bool
    end: bool
    labs: bool
    techniques: bool
    cursor_kind: str | None
    descending: bool


@lru_cache(maxsize=512)
def _page_statement(shape: Shape) -> Select[Any]:
    """The page's candidates: each kind filtered, cut at the cursor, sorted and limited on its
    own (by the (date, slug) indexes), then merged and sorted: at most 3 x (limit + 1) rows.

    Built once per shape: building and keying a statement like this costs more than running it.
    """
    arms = []
    for kind, arm, day, slug in _arms():
        if kind not in shape.kinds:
            continue
        if shape.start:
            arm = arm.where(day >= bindparam("start", type_=Date))
        if shape.end:
            arm = arm.where(day <= bindparam("end", type_=Date))
        if shape.labs:
            arm = arm.where(t.lab.c.slug.in_(bindparam("labs", expanding=True)))
        if shape.techniques:
            arm = arm.where(_about_techniques(kind))
        if shape.cursor_kind is not None:
            arm = arm.where(_after(kind, day, slug, shape.cursor_kind, shape.descending))
        order = (day.desc(), slug.desc()) if shape.descending else (day.asc(), slug.asc())
        arms.append(select(arm.order_by(*order).limit(bindparam("limit")).subquery()))
    if not arms:  # every kind filtered out: an empty stream of the same shape
        arms = [_arms()[0][1].where(false())]
    e = union_all(*arms).subquery("event")
    return (
        select(e)
        .order_by(*(key.order() for key in _keys(e, shape.descending)))
        .limit(bindparam("limit"))
    )


def _fetch(
    db: Db, where: EventFilter, cursor: str | None, limit: int
) -> tuple[Sequence[Any], str | None]:
    """Up to `limit` events after `cursor`, and the cursor of the next page (None at the end)."""
    keys = KEYS[where.descending]
    at = decode_cursor(cursor, keys) if cursor else None
    if at is not None and at[1] not in KINDS:
        raise InvalidParam(
            "cursor", "not a cursor of this listing; follow the `next` link as given"
        )
    shape = Shape(
        kinds=tuple(where.kinds or KINDS),
        start=where.start is not None,
        end=where.end is not None,
        labs=bool(where.labs),
        techniques=bool(where.techniques),
        cursor_kind=at[1] if at else None,
        descending=where.descending,
    )
    params = {
        "start": where.start,
        "end": where.end,
        "labs": where.labs,
        "techniques": where.techniques,
        "at_date": at[0] if at else None,
        "at_slug": at[2] if at else None,
        "limit": limit + 1,
    }
    rows = db.execute(_page_statement(shape), params).all()
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor([last.date, last.kind, last.slug])


def timeline_page(
    db: Db, *, where: EventFilter, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """What happened, in date order: one page of events and the cursor of the next."""
    rows, next_cursor = _fetch(db, where, cursor, limit)
    return [event_json(row) for row in rows], next_cursor


def timeline_groups(db: Db, *, where: EventFilter, by: str) -> tuple[list[dict[str, Any]], bool]:
    """What happened in each year (or month): buckets of events, and whether the cap cut them."""
    rows, next_cursor = _fetch(db, where, None, GROUP_CAP)
    return group_events([event_json(row) for row in rows], by), next_cursor is not None


def event_json(row: Any) -> dict[str, Any]:
    summary = row.summary or (f"First author: {row.authors}" if row.authors else None)
    return {
        "date": iso(row.date, row.date_precision),
        "date_precision": row.date_precision,
        "kind": row.kind,
        "title": f"{row.name} {VERBS[row.kind]}",
        "summary": one_line(summary),
        "lab": link("lab", row.lab_slug, row.lab_name),
        "entity": {
            "kind": row.kind,
            "slug": row.slug,
            "name": row.name,
            "url": url_of(row.kind, row.slug),
        },
    }


def one_line(text: str | None, limit: int = SUMMARY_MAX) -> str | None:
    """Whitespace folded; cut at a word boundary with an ellipsis when longer than `limit`."""
    if text is None:
        return None
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.—-")
    return cut + "…"


def group_events(events: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Sorted events in year or month buckets, in the events' order.

    A month bucket is keyed by the reduced date, so an event known only to the year lands in
    its own year bucket ("2023", "month unknown") rather than in January.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        key = event["date"][:4] if by == "year" else event["date"][:7]
        groups.setdefault(key, []).append(event)
    return [
        {"key": key, "label": _label(key, by), "count": len(items), "events": items}
        for key, items in groups.items()
    ]


def _label(key: str, by: str) -> str:
    if by == "year":
        return key
    if len(key) == 4:
        return f"{key} (month unknown)"
    return f"{calendar.month_name[int(key[5:7])]} {key[:4]}"
