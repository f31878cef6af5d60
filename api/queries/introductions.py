"""Who introduced what: the proposing paper, the introducing model and the adopters.

"Introduced" comes from `role_expr()` alone; "first adopter" from `adoptions()` alone: the
earliest-released model with a `uses` link (an introducer uses what it introduced).
"""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, Subquery, bindparam, func, select

from api.db import Db
from api.errors import NotFound
from api.queries.common import iso, link, link_sources, role_expr, sources_of, url_of
from api.queries.models import model_slugs
from models import tables as t

paper_lab = t.lab.alias("paper_lab")
first_model = t.model.alias("first_model")
first_lab = t.lab.alias("first_lab")

# --- shared column sets and their JSON ---------------------------------------------------------


def paper_columns() -> list[ColumnElement[Any]]:
    """The proposing paper (`t.paper`) and its lab (`paper_lab`), labelled `paper_*`."""
    p = t.paper
    return [
        p.c.slug.label("paper_slug"),
        p.c.title.label("paper_title"),
        p.c.arxiv_id.label("paper_arxiv_id"),
        p.c.published_date.label("paper_date"),
        p.c.date_precision.label("paper_precision"),
        paper_lab.c.slug.label("paper_lab_slug"),
        paper_lab.c.name.label("paper_lab_name"),
    ]


def paper_json(row: Any) -> dict[str, Any] | None:
    if row.paper_slug is None:
        return None
    return {
        "slug": row.paper_slug,
        "name": row.paper_title,
        "url": url_of("paper", row.paper_slug),
        "arxiv_id": row.paper_arxiv_id,
        "title": row.paper_title,
        "published_date": iso(row.paper_date, row.paper_precision),
        "date_precision": row.paper_precision,
        "lab": link("lab", row.paper_lab_slug, row.paper_lab_name),
    }


def model_columns(m: Any = t.model, lab: Any = t.lab, prefix: str = "") -> list[Any]:
    return [
        m.c.slug.label(f"{prefix}slug"),
        m.c.name.label(f"{prefix}name"),
        m.c.release_date.label(f"{prefix}release_date"),
        m.c.date_precision.label(f"{prefix}date_precision"),
        lab.c.slug.label(f"{prefix}lab_slug"),
        lab.c.name.label(f"{prefix}lab_name"),
    ]


def model_json(row: Any, prefix: str = "") -> dict[str, Any]:
    """A model link with its release date and lab, from `model_columns(prefix=…)`."""
    r = row._mapping
    precision = r[f"{prefix}date_precision"]
    return {
        "slug": r[f"{prefix}slug"],
        "name": r[f"{prefix}name"],
        "url": url_of("model", r[f"{prefix}slug"]),
        "release_date": iso(r[f"{prefix}release_date"], precision),
        "date_precision": precision,
        "lab": link("lab", r[f"{prefix}lab_slug"], r[f"{prefix}lab_name"]),
    }


def release_order() -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The adoption order: earliest release first (unknown dates last), then slug."""
    return t.model.c.release_date.asc().nulls_last(), t.model.c.slug.asc()


def adoptions() -> Subquery:
    """Per technique, its users in `release_order()` (rank 1 = first adopter), counted."""
    mt, m = t.model_technique, t.model
    return (
        select(
            mt.c.technique_id,
            mt.c.model_id,
            func.row_number()
            .over(partition_by=mt.c.technique_id, order_by=release_order())
            .label("rank"),
            func.count().over(partition_by=mt.c.technique_id).label("adopters"),
        )
        .join(m, m.c.id == mt.c.model_id)
        .where(mt.c.relation == "uses")
        .subquery("adoption")
    )


def technique_slugs(db: Db) -> list[str]:
    return list(db.execute(select(t.technique.c.slug)).scalars())


# --- GET /techniques/{slug}/introduced-by ------------------------------------------------------


def _technique_statement() -> Select[Any]:
    tech, p = t.technique, t.paper
    return (
        select(tech.c.id, tech.c.slug, tech.c.name, tech.c.category, tech.c.aliases)
        .add_columns(tech.c.description, *paper_columns())
        .outerjoin(p, p.c.id == tech.c.proposed_in_id)
        .outerjoin(paper_lab, paper_lab.c.id == p.c.lab_id)
        .where(tech.c.slug == bindparam("slug"))
    )


def _links_statement(*, as_of: bool) -> Select[Any]:
    mt, m = t.model_technique, t.model
    stmt = (
        select(m.c.id, *model_columns(), role_expr().label("role"))
        .select_from(mt)
        .join(m, m.c.id == mt.c.model_id)
        .join(t.technique, t.technique.c.id == mt.c.technique_id)
        .outerjoin(t.lab, t.lab.c.id == m.c.lab_id)
        .where(mt.c.technique_id == bindparam("technique_id"))
        .order_by(*release_order())
    )
    return stmt.where(m.c.release_date <= bindparam("as_of", type_=Date)) if as_of else stmt


# Built once, values bound (see api.queries.common.SOURCES).
TECHNIQUE_BY_SLUG = _technique_statement()
TECHNIQUE_LINKS = {as_of: _links_statement(as_of=as_of) for as_of in (False, True)}


def technique_introductions(db: Db, slug: str, *, as_of: date | None = None) -> dict[str, Any]:
    """Which paper proposed this technique, which model introduced it, and who adopted it when
    (as known on `as_of`: models released by then; a technique proposed later is not there)."""
    row = db.execute(TECHNIQUE_BY_SLUG, {"slug": slug}).first()
    if row is None:
        raise NotFound("technique", slug, candidates=technique_slugs(db))
    if as_of is not None and row.paper_date is not None and row.paper_date > as_of:
        missing = NotFound("technique", slug)
        missing.detail = (
            f"No technique '{slug}' as of {as_of.isoformat()}: it was proposed on "
            f"{iso(row.paper_date, row.paper_precision)}."
        )
        raise missing
    links = technique_links(db, row.id, as_of=as_of)
    sources = sources_of(db, "model", [r.id for r in links])
    proposal_sources = sources_of(db, "technique", [row.id]).get(row.id, [])

    def entry(link_row: Any, **extra: Any) -> dict[str, Any]:
        sourced = link_sources(sources.get(link_row.id, []), row.id)
        return model_json(link_row) | extra | {"sources": sourced}

    adopters = [entry(r, role=r.role) for r in links if r.role != "does_not_use"]
    proposed_in = paper_json(row)
    if proposed_in is not None:
        proposed_in["sources"] = [s for _, _, s in proposal_sources if s["about"] == "proposed_in"]
    return {
        "technique": {
            "slug": row.slug,
            "name": row.name,
            "url": url_of("technique", row.slug),
            "category": row.category,
            "aliases": row.aliases or [],
            "description": row.description,
        },
        "proposed_in": proposed_in,
        "introduced_by": [entry(r) for r in links if r.role == "introduced"],
        "first_adopter": (
            {k: v for k, v in adopters[0].items() if k != "sources"} if adopters else None
        ),
        "adopters": adopters,
        "not_used_by": [
            e for e in (entry(r) for r in links if r.role == "does_not_use") if e["sources"]
        ],
    }


def technique_links(db: Db, technique_id: int, *, as_of: date | None = None) -> list[Any]:
    """Every model linked to one technique, with its role, in release order (the adoption order);
    with `as_of`, only the models released by then."""
    stmt = TECHNIQUE_LINKS[as_of is not None]
    return list(db.execute(stmt, {"technique_id": technique_id, "as_of": as_of}))


# --- GET /models/{slug}/introduced ---------------------------------------------------------------


def model_introductions(db: Db, slug: str) -> dict[str, Any]:
    """What this model introduced, what it adopted (and whether first), and what it does not use."""
    m = t.model
    stmt = (
        select(m.c.id, *model_columns())
        .outerjoin(t.lab, t.lab.c.id == m.c.lab_id)
        .where(m.c.slug == slug)
    )
    row = db.execute(stmt).first()
    if row is None:
        raise NotFound("model", slug, candidates=model_slugs(db))
    sources = sources_of(db, "model", [row.id]).get(row.id, [])
    answer: dict[str, Any] = {
        "model": model_json(row),
        "introduced": [],
        "adopted": [],
        "does_not_use": [],
    }
    for tech in model_technique_roles(db, row.id):
        item = {
            "slug": tech.slug,
            "name": tech.name,
            "url": url_of("technique", tech.slug),
            "category": tech.category,
            "proposed_in": paper_json(tech),
            "sources": link_sources(sources, tech.id),
        }
        if tech.role == "uses":
            answer["adopted"].append(item | {"first_in_graph": tech.rank == 1})
        else:
            answer["does_not_use" if tech.role == "does_not_use" else "introduced"].append(item)
    return answer


def model_technique_roles(db: Db, model_id: int) -> list[Any]:
    """One model's technique links: role, proposing paper and adoption rank, by technique name."""
    mt, tech, p = t.model_technique, t.technique, t.paper
    adoption = adoptions()
    stmt = (
        select(tech.c.id, tech.c.slug, tech.c.name, tech.c.category, role_expr().label("role"))
        .add_columns(adoption.c.rank, *paper_columns())
        .select_from(mt)
        .join(tech, tech.c.id == mt.c.technique_id)
        .join(t.model, t.model.c.id == mt.c.model_id)
        .outerjoin(p, p.c.id == tech.c.proposed_in_id)
        .outerjoin(paper_lab, paper_lab.c.id == p.c.lab_id)
        .outerjoin(
            adoption,
            (adoption.c.technique_id == mt.c.technique_id) & (adoption.c.model_id == mt.c.model_id),
        )
        .where(mt.c.model_id == model_id)
        .order_by(tech.c.name)
    )
    return list(db.execute(stmt))


# --- GET /introductions --------------------------------------------------------------------------


def introductions(
    db: Db,
    *,
    labs: list[str] | None = None,
    year: int | None = None,
    categories: list[str] | None = None,
) -> list[dict[str, Any]]:
    """For every technique: its proposing paper, introducing model(s) and first adopter."""
    tech, p, mt, m = t.technique, t.paper, t.model_technique, t.model
    adoption = adoptions()
    stmt = (
        select(tech.c.id, tech.c.slug, tech.c.name, tech.c.category, *paper_columns())
        .add_columns(
            *model_columns(first_model, first_lab, prefix="first_"),
            func.coalesce(adoption.c.adopters, 0).label("adopters_count"),
        )
        .outerjoin(p, p.c.id == tech.c.proposed_in_id)
        .outerjoin(paper_lab, paper_lab.c.id == p.c.lab_id)
        .outerjoin(adoption, (adoption.c.technique_id == tech.c.id) & (adoption.c.rank == 1))
        .outerjoin(first_model, first_model.c.id == adoption.c.model_id)
        .outerjoin(first_lab, first_lab.c.id == first_model.c.lab_id)
        .order_by(p.c.published_date.asc().nulls_last(), tech.c.slug)
    )
    if categories:
        stmt = stmt.where(tech.c.category.in_(categories))
    if year is not None:
        stmt = stmt.where(p.c.published_date.between(date(year, 1, 1), date(year, 12, 31)))
    if labs:
        # The technique's own row is correlated in: an introducer of this technique in the labs.
        introducer_in_lab = (
            select(mt.c.model_id)
            .join(m, m.c.id == mt.c.model_id)
            .join(t.lab, t.lab.c.id == m.c.lab_id)
            .where(mt.c.technique_id == tech.c.id, role_expr() == "introduced")
            .where(t.lab.c.slug.in_(labs))
            .exists()
        )
        stmt = stmt.where(paper_lab.c.slug.in_(labs) | introducer_in_lab)
    rows = list(db.execute(stmt))
    introducers = introducers_of(db, [r.id for r in rows])
    return [
        {
            "technique": {
                "slug": r.slug,
                "name": r.name,
                "url": url_of("technique", r.slug),
                "category": r.category,
            },
            "introduced_by": introducers.get(r.id, []),
            "paper": paper_json(r),
            "date": iso(r.paper_date, r.paper_precision),
            "date_precision": r.paper_precision,
            "first_adopter": model_json(r, prefix="first_") if r.first_slug else None,
            "adopters_count": r.adopters_count,
        }
        for r in rows
    ]


def introducers_of(db: Db, technique_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The models that introduced each of these techniques, in one query, by release date."""
    if not technique_ids:
        return {}
    mt, m, tech = t.model_technique, t.model, t.technique
    stmt = (
        select(mt.c.technique_id, *model_columns())
        .select_from(mt)
        .join(m, m.c.id == mt.c.model_id)
        .join(tech, tech.c.id == mt.c.technique_id)
        .outerjoin(t.lab, t.lab.c.id == m.c.lab_id)
        .where(mt.c.technique_id.in_(technique_ids), role_expr() == "introduced")
        .order_by(*release_order())
    )
    index: dict[int, list[dict[str, Any]]] = {}
    for row in db.execute(stmt):
        index.setdefault(row.technique_id, []).append(model_json(row))
    return index
