"""One lab, paper, technique, slide or deck, with the links and sources it embeds."""

import re
from typing import Any

from sqlalchemy import Select, Table, bindparam, select

from api.db import Db
from api.errors import NotFound
from api.queries import entities as e
from api.queries.common import iso, link, plain_sources, role_expr, sources_of
from models import tables as t

ARXIV_ID = re.compile(r"^(?:arxiv:)?(\d{4}\.\d{4,5})(?:v\d+)?$", re.IGNORECASE)
NAME_COLUMN = {"lab": "name", "paper": "title", "model": "name", "technique": "name"}
TABLES: dict[str, Table] = {
    "lab": t.lab, "paper": t.paper, "model": t.model, "technique": t.technique,
}  # fmt: skip


def slugs(db: Db, table: Table) -> list[str]:
    return list(db.execute(select(table.c.slug)).scalars())


def _one(db: Db, kind: str, stmt: Select[Any], key: str) -> Any:
    row = db.execute(stmt).mappings().first()
    if row is None:
        raise NotFound(kind, key, candidates=slugs(db, TABLES[kind]))
    return row


def links_of(db: Db, refs: list[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    """Name and URL of many entities of any kinds: one query per kind present."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    by_kind: dict[str, set[int]] = {}
    for kind, entity_id in refs:
        by_kind.setdefault(kind, set()).add(entity_id)
    for kind, ids in by_kind.items():
        table = TABLES[kind]
        name = table.c[NAME_COLUMN[kind]]
        for row in db.execute(select(table.c.id, table.c.slug, name).where(table.c.id.in_(ids))):
            out[(kind, row[0])] = {"kind": kind, **(link(kind, row[1], row[2]) or {})}
    return out


def _model_links(db: Db, where: Any) -> list[Any]:
    m = t.model
    stmt = select(m.c.slug, m.c.name, m.c.release_date, m.c.date_precision).where(where)
    return [
        link("model", r.slug, r.name, release_date=iso(r.release_date, r.date_precision))
        for r in db.execute(stmt.order_by(m.c.release_date, m.c.slug))
    ]


def get_lab(db: Db, slug: str) -> dict[str, Any]:
    """A lab with its models, its papers and its sources."""
    row = _one(db, "lab", e.lab_select().where(t.lab.c.slug == slug), slug)
    papers = db.execute(
        select(t.paper.c.slug, t.paper.c.title, t.paper.c.arxiv_id)
        .where(t.paper.c.lab_id == row["id"])
        .order_by(t.paper.c.published_date, t.paper.c.slug)
    )
    return e.lab_item(row) | {
        "models": _model_links(db, t.model.c.lab_id == row["id"]),
        "papers": [link("paper", p.slug, p.title, arxiv_id=p.arxiv_id) for p in papers],
        "sources": plain_sources(sources_of(db, "lab", [row["id"]]).get(row["id"], [])),
    }


def get_paper(db: Db, key: str) -> dict[str, Any]:
    """A paper by slug or arXiv id, with the models it describes and techniques it proposed."""
    match = ARXIV_ID.match(key)
    condition = t.paper.c.arxiv_id == match.group(1) if match else t.paper.c.slug == key
    row = _one(db, "paper", e.paper_select().where(condition), key)
    tech = t.technique
    proposed = db.execute(
        select(tech.c.slug, tech.c.name)
        .where(tech.c.proposed_in_id == row["id"])
        .order_by(tech.c.name)
    )
    return e.paper_item(row) | {
        "models": _model_links(db, t.model.c.paper_id == row["id"]),
        "proposed_techniques": [link("technique", r.slug, r.name) for r in proposed],
        "slides": mentioning_slides(db, "paper", row["id"]),
        "sources": plain_sources(sources_of(db, "paper", [row["id"]]).get(row["id"], [])),
    }


def get_technique(db: Db, slug: str) -> dict[str, Any]:
    """A technique with its origin paper, what it refines, who introduced it, and its sources."""
    row = _one(db, "technique", e.technique_select().where(t.technique.c.slug == slug), slug)
    tech, mt = t.technique, t.model_technique
    refined_by = db.execute(
        select(tech.c.slug, tech.c.name).where(tech.c.refines_id == row["id"]).order_by(tech.c.slug)
    )
    roles = db.execute(
        select(t.model.c.slug, t.model.c.name, role_expr().label("role"))
        .select_from(mt)
        .join(t.model, t.model.c.id == mt.c.model_id)
        .join(tech, tech.c.id == mt.c.technique_id)
        .where(mt.c.technique_id == row["id"])
        .order_by(t.model.c.release_date, t.model.c.slug)
    ).all()
    return e.technique_item(row) | {
        "refined_by": [link("technique", r.slug, r.name) for r in refined_by],
        "introduced_by": [link("model", r.slug, r.name) for r in roles if r.role == "introduced"],
        "adopters_count": sum(1 for r in roles if r.role in ("introduced", "uses")),
        "slides": mentioning_slides(db, "technique", row["id"]),
        "sources": plain_sources(sources_of(db, "technique", [row["id"]]).get(row["id"], [])),
        "links": {
            "models": f"/techniques/{slug}/models",
            "introduced_by": f"/techniques/{slug}/introduced-by",
        },
    }


def _mentions_statement() -> Select[Any]:
    sm, sl = t.slide_mention, t.slide
    return (
        select(t.deck.c.slug, sl.c.number, sl.c.title)
        .select_from(sm)
        .join(sl, sl.c.id == sm.c.slide_id)
        .join(t.deck, t.deck.c.id == sl.c.deck_id)
        .where(sm.c.entity_kind == bindparam("kind"), sm.c.entity_id == bindparam("entity_id"))
        .order_by(t.deck.c.slug, sl.c.number)
    )


MENTIONS = _mentions_statement()  # built once (see api.queries.common.SOURCES)


def mentioning_slides(db: Db, kind: str, entity_id: int) -> list[dict[str, Any]]:
    return [
        {"deck": d, "number": n, "title": title, "url": f"/decks/{d}/slides/{n}"}
        for d, n, title in db.execute(MENTIONS, {"kind": kind, "entity_id": entity_id})
    ]


def id_of(db: Db, kind: str, slug: str) -> int:
    """The id of the `kind` with this slug (404 with suggestions when there is none)."""
    table = TABLES[kind]
    found = db.execute(select(table.c.id).where(table.c.slug == slug)).scalar()
    if found is None:
        raise NotFound(kind, slug, candidates=slugs(db, table))
    return int(found)


def paper_id(db: Db, key: str) -> int:
    """A paper's id by slug or arXiv id."""
    match = ARXIV_ID.match(key)
    if not match:
        return id_of(db, "paper", key)
    found = db.execute(select(t.paper.c.id).where(t.paper.c.arxiv_id == match.group(1)))
    value = found.scalar()
    if value is None:
        raise NotFound("paper", key, candidates=slugs(db, t.paper))
    return int(value)
