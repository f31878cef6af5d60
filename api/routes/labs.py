"""Labs: the list, one lab, and its models."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.deps import SessionDep
from api.etags import item_response
from api.listing import list_response
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
def list_labs(
    request: Request,
    session: SessionDep,
    query: ListDep,
    kind: Annotated[str | None, Query(description="industry, academic, nonprofit")] = None,
    country: Annotated[str | None, Query(description="ISO 3166 codes: `CN,FR`.")] = None,
) -> Response:
    """Labs, filtered by kind and country."""
    where = filters.lab_filters(
        kind=choices("kind", kind, tuple(k.value for k in LabKind)), country=csv_values(country)
    )
    return list_response(request, session, collections.LABS, query, where)


@router.get("/{slug}", response_model=LabDetail, summary="One lab", responses=errors(404))
def read_lab(slug: str, request: Request, session: SessionDep) -> Response:
    """A lab with the models it developed and the papers it published."""
    return item_response(request, details.get_lab(session, slug))


@router.get(
    "/{slug}/models",
    response_model=Page[LanguageModelPublic],
    summary="The models a lab developed",
    responses=errors(404),
)
def list_lab_models(slug: str, request: Request, session: SessionDep, query: ListDep) -> Response:
    """The lab's models, with the same paging, sorting and shaping as /models."""
    details.id_of(session, "lab", slug)
    where = filters.model_filters(lab=[slug])
    return list_response(request, session, collections.MODELS, query, where)
