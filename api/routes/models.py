"""Language models: the list, one model, and its techniques."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.db import Db, read
from api.etags import item_response
from api.listing import list_page, list_response
from api.params import ListDep, choices, csv_values, date_bound, year_range
from api.queries import collections, filters
from api.queries import models as model_queries
from api.routes.docs import errors
from models.language_model import LanguageModelDetail, LanguageModelPublic
from models.schemas import Page
from models.technique import TechniquePublic

router = APIRouter(prefix="/models", tags=["models"])

LIST_DESCRIPTION = """
Models in release-date order (then slug). Filters combine with AND; several values of one
filter are comma-separated and combine with OR. `sort` accepts `release_date`, `name`, `slug`,
`parameters`, `context_length` (prefix `-` for descending). `include` expands `lab`, `paper`,
`derived_from`, `techniques`, `sources`; `group_by` counts by `lab`, `year` or `family`.
"""


@router.get(
    "",
    response_model=Page[LanguageModelPublic],
    summary="List models, filtered, sorted and paged",
    description=LIST_DESCRIPTION,
    responses=errors(),
)
async def list_models(
    request: Request,
    query: ListDep,
    lab: Annotated[str | None, Query(description="Lab slugs: `meta,deepseek`.")] = None,
    family: Annotated[str | None, Query(description="Families: `llama,qwen`.")] = None,
    technique: Annotated[
        str | None, Query(description="Models linked to these techniques.")
    ] = None,
    role: Annotated[
        str | None, Query(description="With `technique`: `introduced`, `uses` (default both).")
    ] = None,
    year: Annotated[int | None, Query(ge=1900, le=2100, description="Release year.")] = None,
    start: Annotated[str | None, Query(alias="from", description="Released on or after.")] = None,
    end: Annotated[str | None, Query(alias="to", description="Released on or before.")] = None,
    open_weights: Annotated[bool | None, Query(description="Open weights or closed.")] = None,
    min_parameters: Annotated[int | None, Query(ge=0, le=10**15)] = None,
    max_parameters: Annotated[int | None, Query(ge=0, le=10**15)] = None,
    derived_from: Annotated[str | None, Query(description="Direct parent model slugs.")] = None,
) -> Response:
    """Models, filtered by lab, family, technique, dates, openness, size and parent."""
    years = year_range(year)
    where = filters.model_filters(
        lab=csv_values(lab),
        family=csv_values(family),
        technique=csv_values(technique),
        roles=choices("role", role, ("introduced", "uses", "does_not_use")),
        start=date_bound("from", start) or (years[0] if years else None),
        end=date_bound("to", end, end=True) or (years[1] if years else None),
        open_weights=open_weights,
        min_parameters=min_parameters,
        max_parameters=max_parameters,
        derived_from=csv_values(derived_from),
    )
    return await list_page(request, collections.MODELS, query, where)


@router.get(
    "/{slug}",
    response_model=LanguageModelDetail,
    summary="One model, with its lab, paper, lineage and techniques",
    responses=errors(404),
)
async def read_model(slug: str, request: Request) -> Response:
    """A model and what it introduced or uses, every fact with its slide quote or reference."""
    return item_response(request, await read(request, model_queries.get_model, slug))


@router.get(
    "/{slug}/techniques",
    response_model=Page[TechniquePublic],
    summary="The techniques a model introduced, uses, or is sourced as not using",
    responses=errors(404),
)
async def list_model_techniques(slug: str, request: Request, query: ListDep) -> Response:
    """The model's technique links; each item has its `role`. `group_by=role` counts them."""

    def model_techniques(db: Db) -> Response:
        collection = collections.techniques_of_model(model_queries.model_id(db, slug))
        return list_response(db, request, collection, query)

    return await read(request, model_techniques)
