"""Who introduced what: a technique's origin and adopters, a model's contributions, the table."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.db import read
from api.params import choices, csv_values, date_bound
from api.queries import introductions as introduction_queries
from api.responses import JSON
from api.routes.docs import errors
from models.base import TechniqueCategory
from models.timeline import IntroductionTable, ModelIntroductions, TechniqueIntroductions

router = APIRouter(tags=["introductions"])

CATEGORIES = tuple(category.value for category in TechniqueCategory)


@router.get(
    "/introductions",
    response_model=IntroductionTable,
    summary="Who introduced what: every technique with its paper and first adopter",
    responses=errors(),
)
async def list_introductions(
    request: Request,
    lab: Annotated[
        str | None,
        Query(
            description="Lab slugs, comma-separated: the lab of the introducing model or of "
            "the proposing paper."
        ),
    ] = None,
    year: Annotated[
        int | None, Query(ge=1, le=9999, description="Year the technique was proposed.")
    ] = None,
    category: Annotated[
        str | None,
        Query(description=f"Technique categories, comma-separated: {', '.join(CATEGORIES)}."),
    ] = None,
) -> JSON:
    """One row per technique, by proposal date: the paper that proposed it, the model(s) whose
    own paper that is (usually none: most techniques come from papers without a model here), the
    earliest model in the graph to use it and how many use it. One page holds the whole table."""
    rows = await read(
        request,
        introduction_queries.introductions,
        labs=csv_values(lab),
        year=year,
        categories=choices("category", category, CATEGORIES),
    )
    return JSON({"items": rows, "next": None})


@router.get(
    "/techniques/{slug}/introduced-by",
    response_model=TechniqueIntroductions,
    summary="Who introduced a technique, and who adopted it when",
    responses=errors(404),
)
async def read_technique_introductions(
    slug: str,
    request: Request,
    as_of: Annotated[
        str | None,
        Query(
            description="As known on this date: only models released by then (`2024-06` "
            "reaches 2024-06-30); a technique proposed later is a 404."
        ),
    ] = None,
) -> JSON:
    """The paper that first proposed the technique; the model that introduced it (its own paper
    is that paper); the first model in the graph to use it; every adopter in release order; and
    the models sourced as not using it. Each link carries its slide quotes and references."""
    cutoff = date_bound("as_of", as_of, end=True)
    answer = await read(request, introduction_queries.technique_introductions, slug, as_of=cutoff)
    return JSON(answer)


@router.get(
    "/models/{slug}/introduced",
    response_model=ModelIntroductions,
    summary="What a model introduced, and what it adopted from earlier work",
    responses=errors(404),
)
async def read_model_introductions(slug: str, request: Request) -> JSON:
    """The techniques this model introduced (its paper proposed them), those it adopted (with
    the paper that did, and whether it was the first model in the graph to use them), and those
    it is sourced as not using."""
    return JSON(await read(request, introduction_queries.model_introductions, slug))
