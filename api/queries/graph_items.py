"""Nodes and edges as JSON: `kind:slug` ids, URLs, and the sources of many edges at once."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select

from api.db import Db
from api.queries.common import COLLECTION, iso, source_json
from models import tables as t

Node = dict[str, Any]
Edge = dict[str, Any]


def node_id(kind: str, slug: str) -> str:
    return f"{kind}:{slug}"


def node_url(kind: str, slug: str) -> str:
    if kind == "slide":
        deck, _, number = slug.rpartition(":")
        return f"/decks/{deck}/slides/{number}"
    return f"/{COLLECTION[kind]}/{slug}"


def node_json(row: Any) -> Node:
    """A node: `kind:slug` id, kind, slug, name, URL, and date, lab and category where known."""
    node: Node = {
        "id": node_id(row.kind, row.slug),
        "kind": row.kind,
        "slug": row.slug,
        "name": row.name,
        "url": node_url(row.kind, row.slug),
        "date": iso(row.date, row.date_precision) if row.date is not None else None,
        "lab": row.lab if row.kind in ("model", "paper") else None,
        "category": row.category,
    }
    return node


EdgeKey = tuple[str, int, str, int]


def edge_json(row: Any, sources: dict[EdgeKey, list[dict[str, Any]]]) -> Edge:
    key = (row.source_kind, row.source_id, row.target_kind, row.target_id)
    return {
        "source": node_id(row.source_kind, row.source_slug),
        "target": node_id(row.target_kind, row.target_slug),
        "relation": row.relation,
        "sources": sources.get(key, []),
    }


def edge_sources(session: Db, edge_rows: Sequence[Any]) -> dict[EdgeKey, list[dict[str, Any]]]:
    """The sources of many edges in one query; a mention's source is its slide.

    An edge's sources are those about its two ends: the query asks, per pair of kinds, for the
    sources whose subject is one of the edges' sources and whose object is one of their targets.
    """
    out: dict[EdgeKey, list[dict[str, Any]]] = {}
    ends: dict[tuple[str, str], tuple[set[int], set[int]]] = {}
    for r in edge_rows:
        if r.relation == "mentions":
            deck, _, number = r.source_slug.rpartition(":")
            out.setdefault((r.source_kind, r.source_id, r.target_kind, r.target_id), []).append(
                {"about": "mentions", "kind": "slide", "deck": deck, "slide": int(number),
                 "url": node_url("slide", r.source_slug)}
            )  # fmt: skip
        else:
            subjects, objects = ends.setdefault((r.source_kind, r.target_kind), (set(), set()))
            subjects.add(r.source_id)
            objects.add(r.target_id)
    if not ends:
        return out
    s, sl = t.source, t.slide
    stmt = (
        select(
            s.c.subject_kind, s.c.subject_id, s.c.predicate, s.c.object_kind, s.c.object_id,
            s.c.kind, s.c.quote, s.c.reference, s.c.reference_id, s.c.note, sl.c.number,
            sl.c.title.label("slide_title"), t.deck.c.slug.label("deck"),
        )
        .outerjoin(sl, sl.c.id == s.c.slide_id)
        .outerjoin(t.deck, t.deck.c.id == sl.c.deck_id)
        .where(s.c.object_id.is_not(None))
        .where(or_(*(
            and_(s.c.subject_kind == subject_kind, s.c.subject_id.in_(sorted(subjects)),
                 s.c.object_kind == object_kind, s.c.object_id.in_(sorted(objects)))
            for (subject_kind, object_kind), (subjects, objects) in ends.items()
        )))
        .order_by(s.c.subject_kind, s.c.subject_id, s.c.kind.desc(), sl.c.number, s.c.id)
    )  # fmt: skip
    for row in session.execute(stmt):
        key = (row.subject_kind, row.subject_id, row.object_kind, row.object_id)
        out.setdefault(key, []).append(source_json(row))
    return out
