"""The timeline: models released, papers published and techniques proposed, in date order.

All three kinds of event come from one `UNION ALL` subquery with the same columns, so filters,
sort and keyset paging run once, in SQL, over the whole stream.
"""

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, String, Subquery, literal_column, or_, select
from sqlalchemy.orm import Session

from api.paging import SortKey, fetch_page
from api.queries.common import iso, link, url_of
from models import tables as t

KINDS = ("model", "paper", "technique")
VERBS = {"model": "released", "paper": "published", "technique": "proposed"}
GROUP_CAP = 5000  # a grouped answer holds every matching event up to this many
SUMMARY_MAX = 160


def _kind(name: str) -> ColumnElement[str]:
    # Inline SQL text, not a bound parameter: both databases then type the column as text.
    return literal_column(f"'{name}'", String).label("kind")


def event_stream() -> Subquery:
    """Every dated event, one row each: date, precision, kind, entity, summary and lab."""
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
            p.c.published_date,
            p.c.date_precision,
            _kind("paper"),
            p.c.id,
            p.c.slug,
            p.c.title,
            p.c.key_idea,
            p.c.authors,
            lab.c.slug,
            lab.c.name,
        )
        .outerjoin(lab, lab.c.id == p.c.lab_id)
        .where(p.c.published_date.is_not(None))
    )
    # A technique is proposed when its proposing paper is published; without one, no event.
    techniques = (
        select(
            p.c.published_date,
            p.c.date_precision,
            _kind("technique"),
            tech.c.id,
            tech.c.slug,
            tech.c.name,
            tech.c.description,
            literal_column("NULL", String),
            lab.c.slug,
            lab.c.name,
        )
        .join(p, p.c.id == tech.c.proposed_in_id)
        .outerjoin(lab, lab.c.id == p.c.lab_id)
        .where(p.c.published_date.is_not(None))
    )
    return models.union_all(papers, techniques).subquery("event")


def _about_techniques(e: Subquery, slugs: list[str]) -> ColumnElement[bool]:
    """A technique's proposal, the models that use (or introduced) it and its proposing paper."""
    tech, mt = t.technique, t.model_technique
    users = (
        select(mt.c.model_id)
        .join(tech, tech.c.id == mt.c.technique_id)
        .where(tech.c.slug.in_(slugs), mt.c.relation == "uses")
    )
    proposals = select(tech.c.proposed_in_id).where(
        tech.c.slug.in_(slugs), tech.c.proposed_in_id.is_not(None)
    )
    return or_(
        (e.c.kind == "technique") & e.c.slug.in_(slugs),
        (e.c.kind == "model") & e.c.entity_id.in_(users),
        (e.c.kind == "paper") & e.c.entity_id.in_(proposals),
    )


@dataclass(frozen=True)
class EventFilter:
    """Which events, in which direction: every field optional, all of them must hold."""

    start: date | None = None
    end: date | None = None
    labs: list[str] | None = None
    kinds: list[str] | None = None
    techniques: list[str] | None = None
    descending: bool = False


def _filtered(where: EventFilter) -> tuple[Select[Any], list[SortKey]]:
    e = event_stream()
    stmt = select(e)
    if where.start is not None:
        stmt = stmt.where(e.c.date >= where.start)
    if where.end is not None:
        stmt = stmt.where(e.c.date <= where.end)
    if where.labs:
        stmt = stmt.where(e.c.lab_slug.in_(where.labs))
    if where.kinds:
        stmt = stmt.where(e.c.kind.in_(where.kinds))
    if where.techniques:
        stmt = stmt.where(_about_techniques(e, where.techniques))
    # (date, kind, slug) is unique, so the keyset walk neither skips nor repeats an event.
    keys = [SortKey(name, e.c[name], where.descending) for name in ("date", "kind", "slug")]
    return stmt, keys


def timeline_page(
    session: Session, *, where: EventFilter, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """What happened, in date order: one page of events and the cursor of the next."""
    stmt, keys = _filtered(where)
    page = fetch_page(session, stmt, keys, cursor, limit)
    return [event_json(row) for row in page.rows], page.next_cursor


def timeline_groups(
    session: Session, *, where: EventFilter, by: str
) -> tuple[list[dict[str, Any]], bool]:
    """What happened in each year (or month): buckets of events, and whether the cap cut them."""
    stmt, keys = _filtered(where)
    page = fetch_page(session, stmt, keys, None, GROUP_CAP)
    return group_events([event_json(row) for row in page.rows], by), page.next_cursor is not None


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
