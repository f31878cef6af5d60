"""The adoption matrix: one row per model, one column per technique, `introduced` / `uses` cells.

Four statements whatever its size: the models, the techniques, the filled cells (their role
from `role_expr()`), and the sources of those links as evidence.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from api.db import Db
from api.queries.common import (
    iso,
    link,
    link_sources,
    role_expr,
    sources_of,
    url_of,
    used_by_then,
)
from models import tables as t

AXES = ("models", "techniques")


@dataclass(frozen=True)
class MatrixFilter:
    labs: list[str] | None = None
    categories: list[str] | None = None
    start: date | None = None
    end: date | None = None
    as_of: date | None = None
    dense: bool = False


def _model_where(where: MatrixFilter) -> list[ColumnElement[bool]]:
    m = t.model
    conditions: list[ColumnElement[bool]] = []
    if where.labs:
        conditions.append(m.c.lab_id.in_(select(t.lab.c.id).where(t.lab.c.slug.in_(where.labs))))
    if where.start is not None:
        conditions.append(m.c.release_date >= where.start)
    if where.end is not None:
        conditions.append(m.c.release_date <= where.end)
    if where.as_of is not None:
        conditions.append(m.c.release_date <= where.as_of)
    return conditions


def _technique_where(where: MatrixFilter) -> list[ColumnElement[bool]]:
    tech = t.technique
    conditions: list[ColumnElement[bool]] = []
    if where.categories:
        conditions.append(tech.c.category.in_(where.categories))
    if where.as_of is not None:
        # Proposed by then; a technique of unknown origin counts once a model then used it.
        proposed = select(t.paper.c.id).where(t.paper.c.published_date <= where.as_of)
        conditions.append(
            or_(
                tech.c.proposed_in_id.in_(proposed),
                tech.c.proposed_in_id.is_(None) & tech.c.id.in_(used_by_then(where.as_of)),
            )
        )
    return conditions


def adoption_matrix(db: Db, where: MatrixFilter, *, rows: str = "models") -> dict[str, Any]:
    """Which model introduced or uses which technique, as a grid with the evidence of each cell."""
    m, tech, mt, p = t.model, t.technique, t.model_technique, t.paper
    models = db.execute(
        select(m.c.id, m.c.slug, m.c.name, m.c.release_date, m.c.date_precision)
        .add_columns(t.lab.c.slug.label("lab_slug"), t.lab.c.name.label("lab_name"))
        .outerjoin(t.lab, t.lab.c.id == m.c.lab_id)
        .where(*_model_where(where))
        .order_by(m.c.release_date.asc().nulls_last(), m.c.slug)
    ).all()
    techniques = db.execute(
        select(tech.c.id, tech.c.slug, tech.c.name, tech.c.category)
        .outerjoin(p, p.c.id == tech.c.proposed_in_id)
        .where(*_technique_where(where))
        .order_by(tech.c.category, p.c.published_date.asc().nulls_last(), tech.c.slug)
    ).all()
    role = role_expr()
    filled = db.execute(
        select(mt.c.model_id, mt.c.technique_id, role.label("role"))
        .select_from(mt)
        .join(m, m.c.id == mt.c.model_id)
        .join(tech, tech.c.id == mt.c.technique_id)
        .where(role.in_(("uses", "introduced")), *_model_where(where), *_technique_where(where))
    ).all()
    cell = {(r.model_id, r.technique_id): r.role for r in filled}
    if where.dense:
        models = [r for r in models if any(k[0] == r.id for k in cell)]
        techniques = [r for r in techniques if any(k[1] == r.id for k in cell)]
    sources = sources_of(db, "model", [r.id for r in models])
    evidence = [
        {
            "row": mr.slug,
            "column": tr.slug,
            "value": cell[(mr.id, tr.id)],
            "sources": link_sources(sources.get(mr.id, []), tr.id),
        }
        for mr in models
        for tr in techniques
        if (mr.id, tr.id) in cell
    ]
    model_items = [_model_item(r) for r in models]
    technique_items = [
        {"kind": "technique", "slug": r.slug, "name": r.name,
         "url": url_of("technique", r.slug), "category": r.category}
        for r in techniques
    ]  # fmt: skip
    grid = [[cell.get((mr.id, tr.id)) for tr in techniques] for mr in models]
    if rows == "techniques":
        grid = (
            [list(column) for column in zip(*grid, strict=True)]
            if models
            else [[] for _ in techniques]
        )
        evidence = [{**e, "row": e["column"], "column": e["row"]} for e in evidence]
        evidence.sort(key=lambda e: [r.slug for r in techniques].index(e["row"]))
        return {
            "rows": technique_items,
            "columns": model_items,
            "cells": grid,
            "evidence": evidence,
        }
    return {"rows": model_items, "columns": technique_items, "cells": grid, "evidence": evidence}


def _model_item(row: Any) -> dict[str, Any]:
    return {
        "kind": "model",
        "slug": row.slug,
        "name": row.name,
        "url": url_of("model", row.slug),
        "release_date": iso(row.release_date, row.date_precision),
        "lab": link("lab", row.lab_slug, row.lab_name),
    }


def matrix_csv(matrix: dict[str, Any], *, rows: str = "models") -> Iterator[str]:
    """The grid as CSV: the row's slug, name and date (or category), then one column per slug."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    first = rows.removesuffix("s")
    extra = "release_date" if first == "model" else "category"
    writer.writerow([first, "name", extra, *(c["slug"] for c in matrix["columns"])])
    for row, cells in zip(matrix["rows"], matrix["cells"], strict=True):
        writer.writerow([row["slug"], row["name"], row.get(extra) or "", *(c or "" for c in cells)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
