"""WHERE clauses for the collection filters: plain indexed conditions or EXISTS subqueries."""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, select

from api.queries import entities as e
from api.queries.common import role_expr
from models import tables as t


def date_range(column: ColumnElement[Any], start: date | None, end: date | None) -> list[Any]:
    clauses: list[Any] = []
    if start is not None:
        clauses.append(column >= start)
    if end is not None:
        clauses.append(column <= end)
    return clauses


def model_filters(
    *,
    lab: list[str] | None = None,
    family: list[str] | None = None,
    technique: list[str] | None = None,
    roles: list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    open_weights: bool | None = None,
    min_parameters: int | None = None,
    max_parameters: int | None = None,
    derived_from: list[str] | None = None,
) -> list[Any]:
    """WHERE clauses for /models; each filter is a plain, indexed condition or an EXISTS."""
    m = t.model
    clauses: list[Any] = date_range(m.c.release_date, start, end)
    if lab:
        clauses.append(t.lab.c.slug.in_(lab))
    if family:
        clauses.append(m.c.family.in_(family))
    if open_weights is not None:
        clauses.append(m.c.open_weights.is_(open_weights))
    if min_parameters is not None:
        clauses.append(m.c.parameters >= min_parameters)
    if max_parameters is not None:
        clauses.append(m.c.parameters <= max_parameters)
    if derived_from:
        clauses.append(e.parent.c.slug.in_(derived_from))
    if technique:
        mt = t.model_technique
        linked = (
            select(mt.c.model_id)
            .join(t.technique, t.technique.c.id == mt.c.technique_id)
            .where(mt.c.model_id == m.c.id, t.technique.c.slug.in_(technique))
            .where(role_expr().in_(roles or ["introduced", "uses"]))
        )
        clauses.append(exists(linked))
    return clauses


def paper_filters(
    *, lab: list[str] | None = None, start: date | None = None, end: date | None = None
) -> list[Any]:
    clauses = date_range(t.paper.c.published_date, start, end)
    if lab:
        clauses.append(t.lab.c.slug.in_(lab))
    return clauses


def technique_filters(
    *,
    category: list[str] | None = None,
    introduced_by: list[str] | None = None,
    used_by: list[str] | None = None,
) -> list[Any]:
    tech, mt = t.technique, t.model_technique
    clauses: list[Any] = []
    if category:
        clauses.append(tech.c.category.in_(category))
    for models, roles in ((introduced_by, ["introduced"]), (used_by, ["introduced", "uses"])):
        if models:
            linked = (
                select(mt.c.technique_id)
                .join(t.model, t.model.c.id == mt.c.model_id)
                .where(mt.c.technique_id == tech.c.id, t.model.c.slug.in_(models))
                .where(role_expr().in_(roles))
            )
            clauses.append(exists(linked))
    return clauses


def lab_filters(*, kind: list[str] | None = None, country: list[str] | None = None) -> list[Any]:
    clauses: list[Any] = []
    if kind:
        clauses.append(t.lab.c.kind.in_(kind))
    if country:
        clauses.append(t.lab.c.country.in_([c.upper() for c in country]))
    return clauses
