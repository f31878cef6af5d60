"""Techniques: the list, one technique, and the models linked to it."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.db import Db, read
from api.etags import item_response
from api.listing import list_page, list_response
from api.params import ListDep, choices, csv_values
from api.queries import collections, details, filters
from api.routes.docs import errors
from models.base import TechniqueCategory
from models.language_model import LanguageModelPublic
from models.schemas import Page
from models.technique import TechniqueDetail, TechniquePublic

router = APIRouter(prefix="/techniques", tags=["techniques"])
CATEGORIES = tuple(c.value for c in TechniqueCategory)


@router.get(
    "",
    response_model=Page[TechniquePublic],
    summary="List techniques, by the date their origin paper appeared",
    description="`sort`: `proposed_date`, `name`, `slug`, `category`. `include`: `proposed_in`,"
    " `refines`, `models`, `sources`. `group_by`: `category`, `year`.",
    responses=errors(),
)
async def list_techniques(
    request: Request,
    query: ListDep,
    category: Annotated[str | None, Query(description=", ".join(CATEGORIES))] = None,
    introduced_by: Annotated[str | None, Query(description="Model slugs.")] = None,
    used_by: Annotated[str | None, Query(description="Model slugs (introduced or uses).")] = None,
) -> Response:
    """Techniques, filtered by category and by the models that introduced or use them."""
    where = filters.technique_filters(
        category=choices("category", category, CATEGORIES),
        introduced_by=csv_values(introduced_by),
        used_by=csv_values(used_by),
    )
    return await list_page(request, collections.TECHNIQUES, query, where)


@router.get(
    "/{slug}",
    response_model=TechniqueDetail,
    summary="One technique, with its origin paper and who introduced it",
    responses=errors(404),
)
async def read_technique(slug: str, request: Request) -> Response:
    """A technique, the paper that first proposed it, what it refines, and its sources."""
    return item_response(request, await read(request, details.get_technique, slug))


@router.get(
    "/{slug}/models",
    response_model=Page[LanguageModelPublic],
    summary="The models linked to a technique, each with its role",
    responses=errors(404),
)
async def list_technique_models(slug: str, request: Request, query: ListDep) -> Response:
    """Models that introduced, use, or are sourced as not using the technique."""

    def technique_models(db: Db) -> Response:
        collection = collections.models_of_technique(details.id_of(db, "technique", slug))
        return list_response(db, request, collection, query)

    return await read(request, technique_models)
