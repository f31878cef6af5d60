"""Counts over the whole graph: entities, relations, and the rankings /stats shows."""

from typing import Any

from sqlalchemy import Table, func, select

from api.db import Db
from api.queries.common import role_expr
from api.queries.entities import year_of
from models import tables as t

ENTITY_TABLES = {
    "labs": t.lab,
    "papers": t.paper,
    "models": t.model,
    "techniques": t.technique,
    "decks": t.deck,
    "slides": t.slide,
    "sources": t.source,
}


def data_version(db: Db) -> int:
    return int(db.execute(select(t.data_version.c.version)).scalar_one())


def _count(table: Table, column: str | None = None) -> Any:
    counted = func.count(table.c[column]) if column else func.count()
    return select(counted).select_from(table).scalar_subquery()


def graph_counts(db: Db) -> dict[str, Any]:
    """How many entities and relations of each kind the graph holds, in one round trip."""
    roles = (
        select(role_expr().label("role"))
        .select_from(t.model_technique)
        .join(t.technique, t.technique.c.id == t.model_technique.c.technique_id)
        .join(t.model, t.model.c.id == t.model_technique.c.model_id)
        .subquery()
    )

    def with_role(role: str) -> Any:
        return select(func.count()).where(roles.c.role == role).scalar_subquery()

    relations = {
        "developed_by": _count(t.model, "lab_id"),
        "described_in": _count(t.model, "paper_id"),
        "derived_from": _count(t.model, "derived_from_id"),
        "introduced": with_role("introduced"),
        "uses": with_role("uses"),
        "does_not_use": with_role("does_not_use"),
        "proposed_in": _count(t.technique, "proposed_in_id"),
        "refines": _count(t.technique, "refines_id"),
        "published_by": _count(t.paper, "lab_id"),
        "mentions": _count(t.slide_mention),
    }
    entities = {name: _count(table) for name, table in ENTITY_TABLES.items()}
    version = select(t.data_version.c.version).scalar_subquery()
    columns = [e.label(n) for n, e in {**entities, **relations}.items()]
    row = db.execute(select(*columns, version.label("data_version"))).one()._asdict()
    return {
        "data_version": row["data_version"],
        "entities": {name: row[name] for name in entities},
        "relations": {name: row[name] for name in relations},
    }


def rankings(db: Db) -> dict[str, Any]:
    """Techniques by adopters, labs by models, models per year: three grouped queries."""
    mt, tech, m, lab = t.model_technique, t.technique, t.model, t.lab
    adopters = func.count(mt.c.model_id).label("count")
    by_technique = (
        select(tech.c.slug, tech.c.name, adopters)
        .select_from(tech)
        .join(mt, mt.c.technique_id == tech.c.id)
        .join(m, m.c.id == mt.c.model_id)
        .where(role_expr().in_(["introduced", "uses"]))
        .group_by(tech.c.id, tech.c.slug, tech.c.name)
        .order_by(adopters.desc(), tech.c.slug)
    )
    models = func.count(m.c.id).label("count")
    by_lab = (
        select(lab.c.slug, lab.c.name, models)
        .select_from(lab)
        .outerjoin(m, m.c.lab_id == lab.c.id)
        .group_by(lab.c.id, lab.c.slug, lab.c.name)
        .order_by(models.desc(), lab.c.slug)
    )
    year = year_of(m.c.release_date).label("year")
    per_year = (
        select(year, func.count().label("count"))
        .where(m.c.release_date.is_not(None))
        .group_by(year)
        .order_by(year)
    )
    return {
        "techniques_by_adopters": [
            {"slug": s, "name": n, "url": f"/techniques/{s}", "adopters": c}
            for s, n, c in db.execute(by_technique)
        ],
        "labs_by_models": [
            {"slug": s, "name": n, "url": f"/labs/{s}", "models": c}
            for s, n, c in db.execute(by_lab)
        ],
        "models_per_year": [{"year": y, "models": c} for y, c in db.execute(per_year)],
    }


def summary(db: Db) -> dict[str, Any]:
    """The counts and the rankings: the `/stats` answer."""
    return graph_counts(db) | rankings(db)
