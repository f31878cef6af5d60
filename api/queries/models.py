"""Questions about one language model."""

from typing import Any

from sqlalchemy import Select, bindparam, select

from api.db import Db
from api.errors import NotFound
from api.queries import entities as e
from api.queries.common import link_sources, plain_sources, role_expr, sources_of
from api.queries.details import mentioning_slides
from models import tables as t


def model_slugs(db: Db) -> list[str]:
    return list(db.execute(select(t.model.c.slug)).scalars())


def model_id(db: Db, slug: str) -> int:
    """The id of the model with this slug (404 with suggestions when there is none)."""
    found = db.execute(select(t.model.c.id).where(t.model.c.slug == slug)).scalar()
    if found is None:
        raise NotFound("model", slug, candidates=model_slugs(db))
    return int(found)


def get_model(db: Db, slug: str) -> dict[str, Any]:
    """One model with its lab, paper, parent, techniques (introduced / uses) and sources."""
    row = db.execute(MODEL_BY_SLUG, {"slug": slug}).mappings().first()
    if row is None:
        raise NotFound("model", slug, candidates=model_slugs(db))
    sources = sources_of(db, "model", [row["id"]]).get(row["id"], [])
    return e.model_item(row) | {
        "techniques": [
            {k: v for k, v in tech.items() if k != "id"}
            | {"sources": link_sources(sources, tech["id"])}
            for tech in model_techniques(db, row["id"])
        ],
        "slides": mentioning_slides(db, "model", row["id"]),
        "sources": plain_sources(sources),
        "links": {
            "lineage": f"/models/{slug}/lineage",
            "introduced": f"/models/{slug}/introduced",
            "techniques": f"/models/{slug}/techniques",
        },
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _model_techniques_statement() -> Select[Any]:
    tech, mt = t.technique, t.model_technique
    return (
        select(tech.c.id, tech.c.slug, tech.c.name, tech.c.category, role_expr().label("role"))
        .join(mt, mt.c.technique_id == tech.c.id)
        .join(t.model, t.model.c.id == mt.c.model_id)
        .where(mt.c.model_id == bindparam("model_id"))
        .order_by(tech.c.name)
    )


# Built once (see api.queries.common.SOURCES).
MODEL_BY_SLUG = e.model_select().where(t.model.c.slug == bindparam("slug"))
MODEL_TECHNIQUES = _model_techniques_statement()


def model_techniques(db: Db, model_id: int) -> list[dict[str, Any]]:
    """The techniques one model introduced, uses, or is sourced as not using, by name."""
    return [
        {"id": r.id, "slug": r.slug, "name": r.name, "url": f"/techniques/{r.slug}",
         "category": r.category, "role": r.role}
        for r in db.execute(MODEL_TECHNIQUES, {"model_id": model_id})
    ]  # fmt: skip
