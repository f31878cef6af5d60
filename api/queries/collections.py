"""The collections: what each lists, how it sorts, expands and groups, and its filters."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Select, Table
from sqlalchemy.engine import RowMapping

from api.db import Db
from api.listing import Collection, Expander, Group, Item
from api.queries import entities as e
from api.queries.common import role_expr
from models import tables as t

ItemFn = Callable[[RowMapping], Item]


def expand_one(
    table: Table, base: Callable[[], Select[Any]], item: ItemFn, fk: str, key: str
) -> Expander:
    """`include=lab`: replace each item's link by the full entity, one query for the page."""

    def expand(db: Db, items: list[Item], rows: list[RowMapping]) -> None:
        ids = {row[fk] for row in rows if row[fk] is not None}
        full: dict[int, Item] = {}
        if ids:
            for found in db.execute(base().where(table.c.id.in_(ids))).mappings():
                full[found["id"]] = item(found)
        for target, row in zip(items, rows, strict=True):
            target[key] = full.get(row[fk])

    return expand


def expand_many(base: Callable[[list[int]], Select[Any]], item: ItemFn, key: str) -> Expander:
    """`include=models`: attach each item's children, one query for the page.

    `base(ids)` selects the children of those parent ids with the parent id as `_parent`.
    """

    def expand(db: Db, items: list[Item], rows: list[RowMapping]) -> None:
        children: dict[int, list[Item]] = defaultdict(list)
        ids = [row["id"] for row in rows]
        for child in db.execute(base(ids)).mappings() if ids else []:
            children[child["_parent"]].append(item(child))
        for target, row in zip(items, rows, strict=True):
            target[key] = children.get(row["id"], [])

    return expand


def _models_of(column: ColumnElement[Any]) -> Callable[[list[int]], Select[Any]]:
    def base(ids: list[int]) -> Select[Any]:
        return (
            e.model_select()
            .add_columns(column.label("_parent"))
            .where(column.in_(ids))
            .order_by(t.model.c.release_date, t.model.c.slug)
        )

    return base


def _papers_of_labs(ids: list[int]) -> Select[Any]:
    paper = t.paper
    return (
        e.paper_select()
        .add_columns(paper.c.lab_id.label("_parent"))
        .where(paper.c.lab_id.in_(ids))
        .order_by(paper.c.published_date, paper.c.slug)
    )


def _links_of_models(ids: list[int]) -> Select[Any]:
    """Techniques of these models, with the role of each link."""
    mt = t.model_technique
    return (
        e.technique_select()
        .add_columns(role_expr().label("role"), mt.c.model_id.label("_parent"))
        .join(mt, mt.c.technique_id == t.technique.c.id)
        .join(t.model, t.model.c.id == mt.c.model_id)
        .where(mt.c.model_id.in_(ids))
        .order_by(t.technique.c.name)
    )


def _links_of_techniques(ids: list[int]) -> Select[Any]:
    """Models linked to these techniques, with the role of each link, by release date."""
    mt = t.model_technique
    return (
        e.model_select()
        .add_columns(role_expr().label("role"), mt.c.technique_id.label("_parent"))
        .join(mt, mt.c.model_id == t.model.c.id)
        .join(t.technique, t.technique.c.id == mt.c.technique_id)
        .where(mt.c.technique_id.in_(ids))
        .order_by(t.model.c.release_date, t.model.c.slug)
    )


def _papers_proposing(ids: list[int]) -> Select[Any]:
    return (
        e.technique_select()
        .add_columns(t.technique.c.proposed_in_id.label("_parent"))
        .where(t.technique.c.proposed_in_id.in_(ids))
    )


def _year(column: ColumnElement[Any]) -> Group:
    return Group(e.year_of(column), e.year_of(column))


LABS = Collection(
    kind="lab",
    base=e.lab_select,
    sorts={"name": t.lab.c.name, "slug": t.lab.c.slug, "country": t.lab.c.country},
    default_sort="name",
    tiebreak=("slug", t.lab.c.slug),
    item=e.lab_item,
    id_column=t.lab.c.id,
    includes={
        "models": expand_many(_models_of(t.model.c.lab_id), e.model_item, "models"),
        "papers": expand_many(_papers_of_labs, e.paper_item, "papers"),
    },
    groups={
        "kind": Group(t.lab.c.kind, t.lab.c.kind),
        "country": Group(t.lab.c.country, t.lab.c.country),
    },
)

PAPERS = Collection(
    kind="paper",
    base=e.paper_select,
    sorts={
        "published_date": t.paper.c.published_date,
        "title": t.paper.c.title,
        "arxiv_id": t.paper.c.arxiv_id,
        "slug": t.paper.c.slug,
    },
    default_sort="published_date",
    tiebreak=("slug", t.paper.c.slug),
    item=e.paper_item,
    id_column=t.paper.c.id,
    includes={
        "lab": expand_one(t.lab, e.lab_select, e.lab_item, "lab_id", "lab"),
        "models": expand_many(_models_of(t.model.c.paper_id), e.model_item, "models"),
        "techniques": expand_many(_papers_proposing, e.technique_item, "techniques"),
    },
    groups={"lab": Group(t.lab.c.slug, t.lab.c.name), "year": _year(t.paper.c.published_date)},
)

MODEL_SORTS: dict[str, ColumnElement[Any]] = {
    "release_date": t.model.c.release_date,
    "name": t.model.c.name,
    "slug": t.model.c.slug,
    "parameters": t.model.c.parameters,
    "context_length": t.model.c.context_length,
}
MODEL_INCLUDES: dict[str, Expander] = {
    "lab": expand_one(t.lab, e.lab_select, e.lab_item, "lab_id", "lab"),
    "paper": expand_one(t.paper, e.paper_select, e.paper_item, "paper_id", "paper"),
    "derived_from": expand_one(
        t.model, e.model_select, e.model_item, "derived_from_id", "derived_from"
    ),
    "techniques": expand_many(_links_of_models, e.technique_item, "techniques"),
}
MODEL_GROUPS = {
    "lab": Group(t.lab.c.slug, t.lab.c.name),
    "year": _year(t.model.c.release_date),
    "family": Group(t.model.c.family, t.model.c.family),
}
MODELS = Collection(
    kind="model",
    base=e.model_select,
    sorts=MODEL_SORTS,
    default_sort="release_date",
    tiebreak=("slug", t.model.c.slug),
    item=e.model_item,
    id_column=t.model.c.id,
    includes=MODEL_INCLUDES,
    groups=MODEL_GROUPS,
)

TECHNIQUE_SORTS: dict[str, ColumnElement[Any]] = {
    "proposed_date": e.proposing.c.published_date,
    "name": t.technique.c.name,
    "slug": t.technique.c.slug,
    "category": t.technique.c.category,
}
TECHNIQUE_INCLUDES: dict[str, Expander] = {
    "proposed_in": expand_one(
        t.paper, e.paper_select, e.paper_item, "proposed_in_id", "proposed_in"
    ),
    "refines": expand_one(
        t.technique, e.technique_select, e.technique_item, "refines_id", "refines"
    ),
    "models": expand_many(_links_of_techniques, e.model_item, "models"),
}
TECHNIQUE_GROUPS = {
    "category": Group(t.technique.c.category, t.technique.c.category),
    "year": _year(e.proposing.c.published_date),
}
TECHNIQUES = Collection(
    kind="technique",
    base=e.technique_select,
    sorts=TECHNIQUE_SORTS,
    default_sort="proposed_date",
    tiebreak=("slug", t.technique.c.slug),
    item=e.technique_item,
    id_column=t.technique.c.id,
    includes=TECHNIQUE_INCLUDES,
    groups=TECHNIQUE_GROUPS,
)


def linked_to(collection: Collection, other_id: int, *, default_sort: str) -> Collection:
    """Models of one technique, or techniques of one model: the collection narrowed to the
    entities linked to `other_id`, each item with the link's role (sortable and groupable)."""
    mt = t.model_technique
    own_fk, other_table, other_fk = {
        "technique": (mt.c.technique_id, t.model, mt.c.model_id),
        "model": (mt.c.model_id, t.technique, mt.c.technique_id),
    }[collection.kind]

    def base() -> Select[Any]:
        return (
            collection.base()
            .add_columns(role_expr().label("role"))
            .join(mt, own_fk == collection.id_column)
            .join(other_table, other_table.c.id == other_fk)
            .where(other_fk == other_id)
        )

    role = role_expr()
    return replace(
        collection,
        base=base,
        sorts={**collection.sorts, "role": role},
        default_sort=default_sort,
        groups={**collection.groups, "role": Group(role, role)},
    )


def techniques_of_model(model_id: int) -> Collection:
    """/models/{slug}/techniques: the model's links, each with its role (groupable by role)."""
    return linked_to(TECHNIQUES, model_id, default_sort="name")


def models_of_technique(technique_id: int) -> Collection:
    """/techniques/{slug}/models: the models linked to it, each with its role."""
    return linked_to(MODELS, technique_id, default_sort="release_date")
