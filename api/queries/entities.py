"""How each kind of entity looks in a list: its columns and its flat public item."""

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, cast, extract, select
from sqlalchemy.engine import RowMapping

from api.queries.common import iso, link
from models import tables as t

parent = t.model.alias("parent")
proposing = t.paper.alias("proposing")
refined = t.technique.alias("refined")


def year_of(column: ColumnElement[Any]) -> ColumnElement[int]:
    return cast(extract("year", column), Integer)


@cache  # a Select is immutable: build it once, refine it per request
def lab_select() -> Select[Any]:
    return select(t.lab)


def lab_item(row: RowMapping) -> dict[str, Any]:
    return {
        "slug": row["slug"],
        "name": row["name"],
        "url": f"/labs/{row['slug']}",
        "kind": row["kind"],
        "country": row["country"],
        "homepage": row["homepage"],
    }


@cache
def paper_select() -> Select[Any]:
    return select(
        t.paper, t.lab.c.slug.label("lab_slug"), t.lab.c.name.label("lab_name")
    ).outerjoin(t.lab, t.lab.c.id == t.paper.c.lab_id)


def paper_item(row: RowMapping) -> dict[str, Any]:
    return {
        "slug": row["slug"],
        "name": row["title"],
        "url": f"/papers/{row['slug']}",
        "arxiv_id": row["arxiv_id"],
        "arxiv_url": row["url"],
        "title": row["title"],
        "authors": row["authors"],
        "published_date": iso(row["published_date"], row["date_precision"]),
        "date_precision": row["date_precision"],
        "key_idea": row["key_idea"],
        "lab": link("lab", row["lab_slug"], row["lab_name"]),
    }


@cache
def model_select() -> Select[Any]:
    m = t.model
    return (
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
    )


def model_item(row: RowMapping) -> dict[str, Any]:
    item = {
        "slug": row["slug"],
        "name": row["name"],
        "url": f"/models/{row['slug']}",
        "family": row["family"],
        "release_date": iso(row["release_date"], row["date_precision"]),
        "date_precision": row["date_precision"],
        "open_weights": row["open_weights"],
        "parameters": row["parameters"],
        "active_parameters": row["active_parameters"],
        "sizes": row["sizes"],
        "context_length": row["context_length"],
        "license": row["license"],
        "summary": row["summary"],
        "lab": link("lab", row["lab_slug"], row["lab_name"]),
        "paper": link(
            "paper", row["paper_slug"], row["paper_title"], arxiv_id=row["paper_arxiv_id"]
        ),
        "derived_from": link(
            "model", row["parent_slug"], row["parent_name"], derivation=row["derivation"]
        ),
    }
    return with_role(item, row)


@cache
def technique_select() -> Select[Any]:
    tech = t.technique
    return (
        select(
            tech,
            proposing.c.slug.label("paper_slug"),
            proposing.c.title.label("paper_title"),
            proposing.c.arxiv_id.label("paper_arxiv_id"),
            proposing.c.published_date.label("proposed_date"),
            proposing.c.date_precision.label("proposed_precision"),
            refined.c.slug.label("refines_slug"),
            refined.c.name.label("refines_name"),
        )
        .outerjoin(proposing, proposing.c.id == tech.c.proposed_in_id)
        .outerjoin(refined, refined.c.id == tech.c.refines_id)
    )


def technique_item(row: RowMapping) -> dict[str, Any]:
    item = {
        "slug": row["slug"],
        "name": row["name"],
        "url": f"/techniques/{row['slug']}",
        "aliases": row["aliases"] or [],
        "category": row["category"],
        "description": row["description"],
        "proposed_in": link(
            "paper", row["paper_slug"], row["paper_title"], arxiv_id=row["paper_arxiv_id"]
        ),
        "proposed_date": iso(row["proposed_date"], row["proposed_precision"]),
        "refines": link("technique", row["refines_slug"], row["refines_name"]),
    }
    return with_role(item, row)


def with_role(item: dict[str, Any], row: RowMapping) -> dict[str, Any]:
    """In a model-technique listing, say whether the link is introduced, uses or does_not_use."""
    if "role" in row:
        item["role"] = row["role"]
    return item
