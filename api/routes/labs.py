"""Labs: the list, one lab, and its models."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.db import Db, read
from api.etags import item_response
from api.listing import list_page, list_response
from api.params import ListDep, choices, csv_values
from api.queries import collections, details, filters
from api.routes.docs import errors
from models.base import LabKind
from models.lab import LabDetail, LabPublic
from models.language_model import LanguageModelPublic
from models.schemas import Page

router = APIRouter(prefix="/labs", tags=["labs"])


@router.get(
    "",
    response_model=Page[LabPublic],
    summary="List labs",
    description="`sort`: `name`, `slug`, `country`. `include`: `models`, `papers`, `sources`."
    " `group_by`: `kind`, `country`.",
    responses=errors(),
)
async def list_labs(
    request: Request,
    query: ListDep,
    kind: Annotated[str | None, Query(description="industry, academic, nonprofit")] = None,
    country: Annotated[str | None, Query(description="ISO 3166 codes: `CN,FR`.")] = None,
) -> Response:
    """Labs, filtered by kind and country."""
    where = filters.lab_filters(
        kind=choices("kind", kind, tuple(k.value for k in LabKind)), country=csv_values(country)
    )
    return await list_page(request, collections.LABS, query, where)


@router.get("/{slug}", response_model=LabDetail, summary="One lab", responses=errors(404))
async def read_lab(slug: str, request: Request) -> Response:
    """A lab with the models it developed and the papers it published."""
    return item_response(request, await read(request, details.get_lab, slug))


@router.get(
    "/{slug}/models",
    response_model=Page[LanguageModelPublic],
    summary="The models a lab developed",
    responses=errors(404),
)
async def list_lab_models(slug: str, request: Request, query: ListDep) -> Response:
    """The lab's models, with the same paging, sorting and shaping as /models."""
    where = filters.model_filters(lab=[slug])

    def lab_models(db: Db) -> Response:
        details.id_of(db, "lab", slug)
        return list_response(db, request, collections.MODELS, query, where)

    return await read(request, lab_models)
