"""Create, replace, patch and delete labs, papers, models and techniques.

One set of functions serves every kind, driven by `WriteKind`: which body it takes, which fields
name other entities, which are dates. Each write runs inside the request's transaction, bumps the
data version once, records the change and the key that made it, and refreshes the search index,
so a failure anywhere leaves the database as it was.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import Db
from api.errors import Conflict, InvalidParam, NotFound
from api.queries import details, search
from api.queries import models as model_queries
from api.queries.details import ARXIV_ID
from models import tables as t
from models.base import utc_now
from models.writes import (
    LabWrite,
    ModelWrite,
    PaperWrite,
    TechniqueWrite,
    WriteBody,
    normal_arxiv,
    split_date,
)


@dataclass(frozen=True)
class WriteKind:
    name: str
    table: Table
    schema: type[WriteBody]
    read: Callable[[Db, str], dict[str, Any]]
    refs: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # field -> (column, kind)
    dates: Mapping[str, str] = field(default_factory=dict)  # field -> its precision column
    columns: Mapping[str, str] = field(default_factory=dict)  # field -> column, where they differ


KINDS = {
    "lab": WriteKind("lab", t.lab, LabWrite, details.get_lab),
    "paper": WriteKind(
        "paper", t.paper, PaperWrite, details.get_paper,
        refs={"lab": ("lab_id", "lab")},
        dates={"published_date": "date_precision"},
        columns={"arxiv_url": "url"},
    ),
    "model": WriteKind(
        "model", t.model, ModelWrite, model_queries.get_model,
        refs={"lab": ("lab_id", "lab"), "paper": ("paper_id", "paper"),
              "derived_from": ("derived_from_id", "model")},
        dates={"release_date": "date_precision"},
    ),
    "technique": WriteKind(
        "technique", t.technique, TechniqueWrite, details.get_technique,
        refs={"proposed_in": ("proposed_in_id", "paper"), "refines": ("refines_id", "technique")},
    ),
}  # fmt: skip

# Who points at an entity: (kind of referrer, its table, the foreign key, the relation's name).
REFERRERS: dict[str, list[tuple[str, Table, str, str]]] = {
    "lab": [("model", t.model, "lab_id", "developed_by"),
            ("paper", t.paper, "lab_id", "published_by")],
    "paper": [("model", t.model, "paper_id", "described_in"),
              ("technique", t.technique, "proposed_in_id", "proposed_in")],
    "model": [("model", t.model, "derived_from_id", "derived_from")],
    "technique": [("technique", t.technique, "refines_id", "refines")],
}  # fmt: skip


def validate(kind: WriteKind, data: Any) -> WriteBody:
    """A body validated by hand (PATCH), with the same 422 shape as FastAPI's own."""
    try:
        return kind.schema.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidParam(name, first["msg"]) from error


def find_id(session: Session, kind: str, key: str, *, param: str | None = None) -> int | None:
    """The id of an entity by slug (papers also by arXiv id); None when there is none."""
    table = KINDS[kind].table
    match = ARXIV_ID.match(key) if kind == "paper" else None
    column = table.c.arxiv_id if match else table.c.slug
    value = normal_arxiv(match.group(1)) if match else key
    found = session.execute(select(table.c.id).where(column == value)).scalar()
    return int(found) if found is not None else None


def _values(session: Session, kind: WriteKind, body: WriteBody) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in body.model_dump(mode="json").items():
        if name in kind.refs:
            column, target = kind.refs[name]
            values[column] = None if value is None else find_id(session, target, value)
            if value is not None and values[column] is None:
                raise InvalidParam(name, f"no {target} {value!r}")
        elif name in kind.dates:
            values[name], values[kind.dates[name]] = split_date(value)
        elif name == "arxiv_id" and value is not None:
            values[name] = normal_arxiv(value)
        elif name == "country" and value is not None:
            values[name] = value.upper()
        else:
            values[kind.columns.get(name, name)] = value
    return values


def _check(session: Session, kind: WriteKind, values: dict[str, Any], own_id: int | None) -> None:
    """The rules that span fields or rows: sizes, self-reference, cycles, unique arXiv ids."""
    total, active = values.get("parameters"), values.get("active_parameters")
    if total is not None and active is not None and active > total:
        raise InvalidParam("active_parameters", "more than the total `parameters`")
    parent_column = {"model": "derived_from_id", "technique": "refines_id"}.get(kind.name)
    if parent_column and own_id is not None and values.get(parent_column) is not None:
        if _reaches(session, kind.table, parent_column, values[parent_column], own_id):
            field_name = "derived_from" if kind.name == "model" else "refines"
            raise InvalidParam(field_name, "this would make a cycle (it leads back here)")
    if kind.name == "paper" and values.get("arxiv_id"):
        other = session.execute(
            select(t.paper.c.slug).where(
                t.paper.c.arxiv_id == values["arxiv_id"], t.paper.c.id != (own_id or -1)
            )
        ).scalar()
        if other is not None:
            raise Conflict(f"arXiv {values['arxiv_id']} is paper {other!r} already.")


def _reaches(session: Session, table: Table, column: str, start: int, target: int) -> bool:
    """Does following `column` from `start` arrive at `target`? (Bounded: chains are short.)"""
    current: int | None = start
    for _ in range(1000):
        if current is None:
            return False
        if current == target:
            return True
        current = session.execute(select(table.c[column]).where(table.c.id == current)).scalar()
    return True


def record(session: Session, kind: str, slug: str, operation: str, key: str | None) -> int:
    """Bump the data version and log the change under it; returns the new version."""
    dv = t.data_version
    version = session.execute(
        update(dv).values(version=dv.c.version + 1, updated_at=utc_now()).returning(dv.c.version)
    ).scalar_one()
    session.execute(
        insert(t.change).values(
            version=version, kind=kind, slug=slug, operation=operation, key_name=key, at=utc_now()
        )
    )
    return int(version)


def create(session: Session, kind_name: str, body: WriteBody, key: str) -> dict[str, Any]:
    """Insert a new entity (409 when its slug is taken)."""
    kind = KINDS[kind_name]
    slug = body.model_dump()["slug"]
    if find_id(session, kind_name, slug) is not None:
        raise Conflict(f"A {kind_name} with slug {slug!r} exists already.")
    values = _values(session, kind, body)
    _check(session, kind, values, None)
    now = utc_now()
    statement = insert(kind.table).values(
        **values, created_at=now, updated_at=now, created_by=key, updated_by=key
    )
    try:
        new_id = session.execute(statement.returning(kind.table.c.id)).scalar_one()
    except IntegrityError as error:
        raise Conflict(f"The {kind_name} conflicts with an existing one.") from error
    record(session, kind_name, slug, "created", key)
    search.reindex(session, kind_name, [new_id])
    return kind.read(session, slug)


def replace(
    session: Session, kind_name: str, slug: str, body: WriteBody, key: str
) -> tuple[dict[str, Any], bool]:
    """Replace an entity with `body` (or create it); returns the item and whether it is new."""
    kind = KINDS[kind_name]
    if body.model_dump()["slug"] != slug:
        raise InvalidParam("slug", "must match the URL; a slug cannot be renamed")
    own_id = find_id(session, kind_name, slug)
    if own_id is None:
        return create(session, kind_name, body, key), True
    values = _values(session, kind, body)
    _check(session, kind, values, own_id)
    statement = update(kind.table).where(kind.table.c.id == own_id)
    try:
        session.execute(statement.values(**values, updated_at=utc_now(), updated_by=key))
    except IntegrityError as error:
        raise Conflict(f"The {kind_name} conflicts with an existing one.") from error
    record(session, kind_name, slug, "updated", key)
    search.reindex(session, kind_name, [own_id])
    return kind.read(session, slug), False


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, `null` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def referrers(session: Session, kind_name: str, entity_id: int) -> list[dict[str, str]]:
    """Every entity whose foreign key names this one, and through which relation."""
    found = []
    for kind, table, column, relation in REFERRERS[kind_name]:
        stmt = select(table.c.slug).where(table.c[column] == entity_id).order_by(table.c.slug)
        found += [
            {"kind": kind, "slug": s, "relation": relation} for s in session.execute(stmt).scalars()
        ]
    if kind_name == "technique":
        mt = t.model_technique
        stmt = (
            select(t.model.c.slug, mt.c.relation)
            .join(mt, mt.c.model_id == t.model.c.id)
            .where(mt.c.technique_id == entity_id)
            .order_by(t.model.c.slug)
        )
        found += [{"kind": "model", "slug": s, "relation": r} for s, r in session.execute(stmt)]
    return found


def remove(session: Session, kind_name: str, slug: str, key: str, *, cascade: bool) -> None:
    """Delete an entity. Referenced: 409 naming the referrers, or with `cascade` detach them."""
    kind = KINDS[kind_name]
    entity_id = find_id(session, kind_name, slug)
    if entity_id is None:
        raise NotFound(kind_name, slug, candidates=details.slugs(session, kind.table))
    pointing = referrers(session, kind_name, entity_id)
    if pointing and not cascade:
        names = ", ".join(f"{r['kind']} {r['slug']} ({r['relation']})" for r in pointing)
        raise Conflict(
            f"The {kind_name} {slug!r} is referenced by {names}. Delete or change those first,"
            " or repeat with ?cascade=true to detach them.",
            referrers=pointing,
        )
    _detach(session, kind_name, entity_id, key)
    src = t.source
    session.execute(
        delete(src).where(
            or_(
                (src.c.subject_kind == kind_name) & (src.c.subject_id == entity_id),
                (src.c.object_kind == kind_name) & (src.c.object_id == entity_id),
            )
        )
    )
    sm = t.slide_mention
    session.execute(delete(sm).where(sm.c.entity_kind == kind_name, sm.c.entity_id == entity_id))
    session.execute(delete(kind.table).where(kind.table.c.id == entity_id))
    record(session, kind_name, slug, "deleted", key)
    search.reindex(session, kind_name, [entity_id])


def _detach(session: Session, kind_name: str, entity_id: int, key: str) -> None:
    """Cascade: clear every reference to the entity (never delete another entity)."""
    now = utc_now()
    for kind, table, column, _ in REFERRERS[kind_name]:
        stmt = select(table.c.id, table.c.slug).where(table.c[column] == entity_id)
        for other_id, other_slug in session.execute(stmt).all():
            values: dict[str, Any] = {column: None, "updated_at": now, "updated_by": key}
            if column == "derived_from_id":
                values["derivation"] = None
            session.execute(update(table).where(table.c.id == other_id).values(**values))
            record(session, kind, other_slug, "updated", key)
    if kind_name == "technique":
        mt = t.model_technique
        linked = select(t.model.c.slug).join(mt, mt.c.model_id == t.model.c.id)
        for model_slug in session.execute(linked.where(mt.c.technique_id == entity_id)).scalars():
            record(session, "model", model_slug, "updated", key)
        session.execute(delete(mt).where(mt.c.technique_id == entity_id))
