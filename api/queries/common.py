"""Pieces every query shares: entity links, the introduced/uses role, and sources."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, select

from api.db import Db
from models import tables as t
from models.base import reduced_iso

COLLECTION = {"lab": "labs", "paper": "papers", "model": "models", "technique": "techniques"}


def url_of(kind: str, slug: str) -> str:
    return f"/{COLLECTION[kind]}/{slug}"


def link(kind: str, slug: str | None, name: str | None, **extra: Any) -> dict[str, Any] | None:
    """The embedded form of a related entity: slug, name and URL (None when there is none)."""
    if slug is None:
        return None
    return {"slug": slug, "name": name, "url": url_of(kind, slug), **extra}


def iso(value: Any, precision: str | None) -> str | None:
    return reduced_iso(value, precision)


def used_by_then(day: date) -> Select[Any]:
    """The ids of the techniques some model released by `day` uses: how a technique of unknown
    origin enters the graph "as of" a date."""
    mt, m = t.model_technique, t.model
    return select(mt.c.technique_id).join(m, m.c.id == mt.c.model_id).where(m.c.release_date <= day)


def role_expr() -> ColumnElement[str]:
    """'introduced' when the model's paper first proposed the technique, else the link's relation.

    The one place "introduced" is decided; it is derived, never stored. Needs `model_technique`,
    `technique` and `model` in the FROM clause.
    """
    introduced = and_(
        t.model_technique.c.relation == "uses",
        t.technique.c.proposed_in_id.is_not(None),
        t.technique.c.proposed_in_id == t.model.c.paper_id,
    )
    return case((introduced, "introduced"), else_=t.model_technique.c.relation)


def source_json(row: Any) -> dict[str, Any]:
    if row.kind == "slide":
        return {
            "about": row.predicate,
            "kind": "slide",
            "deck": row.deck,
            "slide": row.number,
            "title": row.slide_title,
            "quote": row.quote,
            "note": row.note,
            "url": f"/decks/{row.deck}/slides/{row.number}",
        }
    return {
        "about": row.predicate,
        "kind": "reference",
        "source": row.reference,
        "reference_id": row.reference_id,
        "note": row.note,
    }


SourceEntry = tuple[str | None, int | None, dict[str, Any]]
SourceIndex = dict[int, list[SourceEntry]]


def _sources_statement() -> Select[Any]:
    s, sl = t.source, t.slide
    return (
        select(
            s.c.subject_id,
            s.c.predicate,
            s.c.object_kind,
            s.c.object_id,
            s.c.kind,
            s.c.quote,
            s.c.reference,
            s.c.reference_id,
            s.c.note,
            sl.c.number,
            sl.c.title.label("slide_title"),
            t.deck.c.slug.label("deck"),
        )
        .outerjoin(sl, sl.c.id == s.c.slide_id)
        .outerjoin(t.deck, t.deck.c.id == sl.c.deck_id)
        .where(
            s.c.subject_kind == bindparam("kind"),
            s.c.subject_id.in_(bindparam("ids", expanding=True)),
        )
        # Slide quotes first (what the course says), then references, each in a stable order.
        .order_by(s.c.subject_id, s.c.kind.desc(), sl.c.number, s.c.id)
    )


# Built once: building a statement and its cache key costs more than running it on SQLite.
SOURCES = _sources_statement()


def sources_of(db: Db, kind: str, ids: Sequence[int]) -> SourceIndex:
    """The sources of many subjects of one kind, in one query: id -> [(object kind, id, source)]."""
    if not ids:
        return {}
    index: SourceIndex = defaultdict(list)
    for row in db.execute(SOURCES, {"kind": kind, "ids": list(ids)}):
        index[row.subject_id].append((row.object_kind, row.object_id, source_json(row)))
    return index


def plain_sources(entries: Iterable[SourceEntry]) -> list[dict[str, Any]]:
    """The sources about the entity itself and its many-to-one links (not technique links)."""
    return [source for object_kind, _, source in entries if object_kind != "technique"]


def link_sources(entries: Iterable[SourceEntry], technique_id: int) -> list[dict[str, Any]]:
    """The sources of one model-technique link."""
    return [s for kind, oid, s in entries if kind == "technique" and oid == technique_id]
