"""Questions about language models."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import NotFound
from api.queries.common import iso, link, link_sources, plain_sources, role_expr, sources_of
from models import tables as t

parent = t.model.alias("parent")


def model_slugs(session: Session) -> list[str]:
    return list(session.execute(select(t.model.c.slug)).scalars())


def get_model(session: Session, slug: str) -> dict[str, Any]:
    """One model with its lab, paper, parent, techniques (introduced / uses) and sources."""
    m = t.model
    stmt = (
        select(
            m,
            t.lab.c.slug.label("lab_slug"),
            t.lab.c.name.label("lab_name"),
            t.paper.c.slug.label("paper_slug"),
            t.paper.c.title.label("paper_title"),
            t.paper.c.arxiv_id.label("paper_arxiv_id"),
            parent.c.slug.label("parent_slug"),
            parent.c.name.label("parent_name"),
        )
        .outerjoin(t.lab, t.lab.c.id == m.c.lab_id)
        .outerjoin(t.paper, t.paper.c.id == m.c.paper_id)
        .outerjoin(parent, parent.c.id == m.c.derived_from_id)
        .where(m.c.slug == slug)
    )
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound("model", slug, candidates=model_slugs(session))
    sources = sources_of(session, "model", [row.id])[row.id]
    return {
        "slug": row.slug,
        "name": row.name,
        "url": f"/models/{row.slug}",
        "family": row.family,
        "release_date": iso(row.release_date, row.date_precision),
        "date_precision": row.date_precision,
        "open_weights": row.open_weights,
        "parameters": row.parameters,
        "active_parameters": row.active_parameters,
        "sizes": row.sizes,
        "context_length": row.context_length,
        "license": row.license,
        "summary": row.summary,
        "lab": link("lab", row.lab_slug, row.lab_name),
        "paper": link("paper", row.paper_slug, row.paper_title, arxiv_id=row.paper_arxiv_id),
        "derived_from": link("model", row.parent_slug, row.parent_name, derivation=row.derivation),
        "techniques": [
            {k: v for k, v in tech.items() if k != "id"}
            | {"sources": link_sources(sources, tech["id"])}
            for tech in model_techniques(session, row.id)
        ],
        "sources": plain_sources(sources),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def model_techniques(session: Session, model_id: int) -> list[dict[str, Any]]:
    """The techniques one model introduced, uses, or is sourced as not using, by name."""
    tech, mt = t.technique, t.model_technique
    stmt = (
        select(tech.c.id, tech.c.slug, tech.c.name, tech.c.category, role_expr().label("role"))
        .join(mt, mt.c.technique_id == tech.c.id)
        .join(t.model, t.model.c.id == mt.c.model_id)
        .where(mt.c.model_id == model_id)
        .order_by(tech.c.name)
    )
    return [
        {
            "id": r.id,
            "slug": r.slug,
            "name": r.name,
            "url": f"/techniques/{r.slug}",
            "category": r.category,
            "role": r.role,
        }
        for r in session.execute(stmt)
    ]
