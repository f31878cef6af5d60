"""The sources themselves: decks and their slides."""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from api.deps import SessionDep
from api.listing import list_response
from api.params import ListDep
from api.queries import slides as slide_queries
from api.responses import JSON
from api.routes.docs import errors
from models import tables as t

router = APIRouter(tags=["slides"])
SlideNumber = Annotated[int, Path(ge=1, le=100_000, description="1 is the title slide.")]


@router.get("/slides", summary="List the slides of every deck", responses=errors())
def list_slides(request: Request, session: SessionDep, query: ListDep) -> Response:
    """Every slide: deck, number, title; `group_by=deck` counts them."""
    return list_response(request, session, slide_queries.SLIDES, query)


@router.get("/slides/{number}", summary="One slide of the chapter's deck", responses=errors(404))
def read_slide(number: SlideNumber, session: SessionDep) -> JSON:
    """A slide of the first deck loaded: its text, items and the entities it mentions."""
    return JSON(slide_queries.get_slide(session, slide_queries.first_deck(session), number))


@router.get("/decks", summary="List the decks the graph was built from")
def list_decks(session: SessionDep) -> JSON:
    """Each deck: title, file name, SHA-256 of its text and its number of slides."""
    return JSON({"items": slide_queries.list_decks(session), "next": None})


@router.get("/decks/{deck}", summary="One deck", responses=errors(404))
def read_deck(deck: str, session: SessionDep) -> JSON:
    """A deck and where to find its slides."""
    return JSON(slide_queries.get_deck(session, deck))


@router.get("/decks/{deck}/slides", summary="The slides of one deck", responses=errors(404))
def list_deck_slides(deck: str, request: Request, session: SessionDep, query: ListDep) -> Response:
    """The deck's slides in order."""
    slide_queries.get_deck(session, deck)
    return list_response(request, session, slide_queries.SLIDES, query, [t.deck.c.slug == deck])


@router.get("/decks/{deck}/slides/{number}", summary="One slide", responses=errors(404))
def read_deck_slide(deck: str, number: SlideNumber, session: SessionDep) -> JSON:
    """A slide: its markdown, its structured items, the entities it mentions, its neighbours."""
    return JSON(slide_queries.get_slide(session, deck, number))
