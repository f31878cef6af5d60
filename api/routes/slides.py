"""The sources themselves: decks and their slides."""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from api.db import Db, read
from api.listing import list_page, list_response
from api.params import ListDep
from api.queries import slides as slide_queries
from api.responses import JSON
from api.routes.docs import errors
from models import tables as t

router = APIRouter(tags=["slides"])
SlideNumber = Annotated[int, Path(ge=1, le=100_000, description="1 is the title slide.")]


@router.get("/slides", summary="List the slides of every deck", responses=errors())
async def list_slides(request: Request, query: ListDep) -> Response:
    """Every slide: deck, number, title; `group_by=deck` counts them."""
    return await list_page(request, slide_queries.SLIDES, query)


@router.get("/slides/{number}", summary="One slide of the chapter's deck", responses=errors(404))
async def read_slide(number: SlideNumber, request: Request) -> JSON:
    """A slide of the first deck loaded: its text, items and the entities it mentions."""
    return JSON(await read(request, slide_queries.get_first_deck_slide, number))


@router.get("/decks", summary="List the decks the graph was built from")
async def list_decks(request: Request) -> JSON:
    """Each deck: title, file name, SHA-256 of its text and its number of slides."""
    return JSON({"items": await read(request, slide_queries.list_decks), "next": None})


@router.get("/decks/{deck}", summary="One deck", responses=errors(404))
async def read_deck(deck: str, request: Request) -> JSON:
    """A deck and where to find its slides."""
    return JSON(await read(request, slide_queries.get_deck, deck))


@router.get("/decks/{deck}/slides", summary="The slides of one deck", responses=errors(404))
async def list_deck_slides(deck: str, request: Request, query: ListDep) -> Response:
    """The deck's slides in order."""

    def deck_slides(db: Db) -> Response:
        slide_queries.get_deck(db, deck)
        return list_response(db, request, slide_queries.SLIDES, query, [t.deck.c.slug == deck])

    return await read(request, deck_slides)


@router.get("/decks/{deck}/slides/{number}", summary="One slide", responses=errors(404))
async def read_deck_slide(deck: str, number: SlideNumber, request: Request) -> JSON:
    """A slide: its markdown, its structured items, the entities it mentions, its neighbours."""
    return JSON(await read(request, slide_queries.get_slide, deck, number))
