"""Papers: the list, one paper (by slug or arXiv id), and the models it describes."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.db import Db, read
from api.etags import item_response
from api.listing import list_page, list_response
from api.params import ListDep, csv_values, date_bound, year_range
from api.queries import collections, details, filters
from api.routes.docs import errors
from models import tables as t
from models.language_model import LanguageModelPublic
from models.paper import PaperDetail, PaperPublic
from models.schemas import Page

router = APIRouter(prefix="/papers", tags=["papers"])


@router.get(
    "",
    response_model=Page[PaperPublic],
    summary="List papers, by publication date",
    description="`sort`: `published_date`, `title`, `arxiv_id`, `slug`. `include`: `lab`,"
    " `models`, `techniques`, `sources`. `group_by`: `lab`, `year`.",
    responses=errors(),
)
async def list_papers(
    request: Request,
    query: ListDep,
    lab: Annotated[str | None, Query(description="Lab slugs.")] = None,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    start: Annotated[str | None, Query(alias="from", description="Published on or after.")] = None,
    end: Annotated[str | None, Query(alias="to", description="Published on or before.")] = None,
) -> Response:
    """Papers, filtered by lab and publication date."""
    years = year_range(year)
    where = filters.paper_filters(
        lab=csv_values(lab),
        start=date_bound("from", start) or (years[0] if years else None),
        end=date_bound("to", end, end=True) or (years[1] if years else None),
    )
    return await list_page(request, collections.PAPERS, query, where)


@router.get(
    "/{key}",
    response_model=PaperDetail,
    summary="One paper, by slug or arXiv id",
    responses=errors(404),
)
async def read_paper(key: str, request: Request) -> Response:
    """`/papers/arxiv-2307.09288`, `/papers/2307.09288` and `/papers/arxiv:2307.09288` agree."""
    return item_response(request, await read(request, details.get_paper, key))


@router.get(
    "/{key}/models",
    response_model=Page[LanguageModelPublic],
    summary="The models a paper describes",
    responses=errors(404),
)
async def list_paper_models(key: str, request: Request, query: ListDep) -> Response:
    """Models described in the paper."""

    def paper_models(db: Db) -> Response:
        where = [t.model.c.paper_id == details.paper_id(db, key)]
        return list_response(db, request, collections.MODELS, query, where)

    return await read(request, paper_models)
