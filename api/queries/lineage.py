"""Model lineage: ancestors and descendants through `model.derived_from_id`, at any depth.

Each direction is one recursive CTE. The schema forbids a model deriving from itself but not a
longer cycle, so the walk stops at `MAX_DEPTH` and a model is reported once, at its nearest depth.
"""

from typing import Any

from sqlalchemy import CTE, Integer, literal_column, select

from api.db import Db
from api.errors import NotFound
from api.queries.common import iso, link, url_of
from api.queries.models import model_slugs
from models import tables as t

MAX_DEPTH = 50
parent = t.model.alias("parent")


def _one() -> Any:
    # Inline, not a bound parameter: PostgreSQL then types the anchor's depth like `depth + 1`.
    return literal_column("1", Integer).label("depth")


def ancestors_cte(model_id: int) -> CTE:
    """(id, depth, derivation): the parent at depth 1, its parent at 2 …; derivation is how the
    model one step below derives from it."""
    m = t.model
    anchor = select(
        m.c.derived_from_id.label("id"), _one(), m.c.derivation.label("derivation")
    ).where(m.c.id == model_id, m.c.derived_from_id.is_not(None))
    walk = anchor.cte("ancestry", recursive=True)
    step = (
        select(m.c.derived_from_id, walk.c.depth + 1, m.c.derivation)
        .join(walk, m.c.id == walk.c.id)
        .where(m.c.derived_from_id.is_not(None), walk.c.depth < MAX_DEPTH)
    )
    return walk.union_all(step)


def descendants_cte(model_id: int) -> CTE:
    """(id, depth): the children at depth 1, their children at 2 …"""
    m = t.model
    anchor = select(m.c.id, _one()).where(m.c.derived_from_id == model_id)
    walk = anchor.cte("descent", recursive=True)
    step = (
        select(m.c.id, walk.c.depth + 1)
        .join(walk, m.c.derived_from_id == walk.c.id)
        .where(walk.c.depth < MAX_DEPTH)
    )
    return walk.union_all(step)


def lineage(db: Db, slug: str) -> dict[str, Any]:
    """Which models this one derives from, and which derive from it, at any depth."""
    m = t.model
    stmt = (
        select(m.c.id, m.c.slug, m.c.name, m.c.release_date, m.c.date_precision)
        .add_columns(t.lab.c.slug.label("lab_slug"), t.lab.c.name.label("lab_name"))
        .outerjoin(t.lab, t.lab.c.id == m.c.lab_id)
        .where(m.c.slug == slug)
    )
    row = db.execute(stmt).first()
    if row is None:
        raise NotFound("model", slug, candidates=model_slugs(db))
    return {
        "model": {
            "slug": row.slug,
            "name": row.name,
            "url": url_of("model", row.slug),
            "release_date": iso(row.release_date, row.date_precision),
            "date_precision": row.date_precision,
            "lab": link("lab", row.lab_slug, row.lab_name),
        },
        "ancestors": ancestors(db, row.id),
        "descendants": descendants(db, row.id),
    }


def ancestors(db: Db, model_id: int) -> list[dict[str, Any]]:
    """The chain of models this one derives from, parent first."""
    m, up = t.model, ancestors_cte(model_id)
    stmt = (
        select(m.c.id, m.c.slug, m.c.name, m.c.release_date, m.c.date_precision)
        .add_columns(up.c.depth, up.c.derivation)
        .join(up, up.c.id == m.c.id)
        .order_by(up.c.depth)
    )
    return _nearest(db.execute(stmt), model_id)


def descendants(db: Db, model_id: int) -> list[dict[str, Any]]:
    """Every model derived from this one, generation by generation, each with its parent."""
    m, down = t.model, descendants_cte(model_id)
    stmt = (
        select(m.c.id, m.c.slug, m.c.name, m.c.release_date, m.c.date_precision)
        .add_columns(down.c.depth, m.c.derivation, parent.c.slug.label("parent"))
        .join(down, down.c.id == m.c.id)
        .join(parent, parent.c.id == m.c.derived_from_id)
        .order_by(down.c.depth, m.c.release_date.asc().nulls_last(), m.c.slug)
    )
    return _nearest(db.execute(stmt), model_id)


def _nearest(rows: Any, model_id: int) -> list[dict[str, Any]]:
    """Rows sorted by depth -> entries, each model once at its nearest depth (cycles repeat)."""
    seen = {model_id}
    out: list[dict[str, Any]] = []
    for row in rows:
        if row.id in seen:
            continue
        seen.add(row.id)
        entry = {
            "slug": row.slug,
            "name": row.name,
            "url": url_of("model", row.slug),
            "depth": row.depth,
            "derivation": row.derivation,
            "release_date": iso(row.release_date, row.date_precision),
            "date_precision": row.date_precision,
        }
        if "parent" in row._fields:
            entry["parent"] = row.parent
        out.append(entry)
    return out
