"""Search: ranked full-text matches, type-ahead suggestions, and identifiers resolved to URLs."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.db import read
from api.errors import InvalidParam
from api.queries import search as search_queries
from api.responses import JSON
from api.routes.docs import errors
from models.schemas import Page
from models.search import SEARCH_KINDS, Resolved, SearchHit, Suggestion

router = APIRouter(tags=["search"])

MAX_QUERY = 200

Q_DOC = (
    "Words to find, each as a prefix, case-insensitive (`mixtr`, `latent attention`, `GQA`). "
    "Only letters and digits count: other characters separate words. At most 200 characters; "
    "words past the 16th are ignored."
)


def _text(name: str, value: str, *, blank_ok: bool = False) -> str:
    """A free-text parameter: no NUL byte and, unless `blank_ok`, not blank."""
    if "\x00" in value:
        raise InvalidParam(name, "must not contain NUL bytes")
    if not blank_ok and not value.strip():
        raise InvalidParam(name, "must not be blank")
    return value


def _kinds(raw: str | None, allowed: tuple[str, ...]) -> list[str]:
    """`model,technique` -> ["model", "technique"]; none given means every allowed kind."""
    kinds = [kind.strip() for kind in (raw or "").split(",") if kind.strip()]
    for kind in kinds:
        if kind not in allowed:
            raise InvalidParam("kind", f"unknown kind {kind!r}; expected {', '.join(allowed)}")
    return kinds or list(allowed)


@router.get(
    "/search",
    response_model=Page[SearchHit],
    summary="Find labs, papers, models, techniques and slides by words",
    responses=errors(),
)
async def search(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY, description=Q_DOC)],
    kind: Annotated[
        str | None,
        Query(description="Only these kinds, comma-separated: " + ", ".join(SEARCH_KINDS)),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="How many matches.")] = 20,
) -> JSON:
    """Ranked matches in names, aliases, descriptions and slide text, with marked snippets."""
    text, kinds = _text("q", q), _kinds(kind, SEARCH_KINDS)
    hits = await read(request, search_queries.search, text, kinds=kinds, limit=limit)
    return JSON({"items": hits, "next": None})


@router.get(
    "/autocomplete",
    response_model=Page[Suggestion],
    summary="Suggest entities for what has been typed so far",
    responses=errors(),
)
async def autocomplete(
    request: Request,
    q: Annotated[
        str,
        Query(
            max_length=MAX_QUERY,
            description="The start of a name, slug or alias, case-insensitive. Blank gives "
            "no suggestions (200, empty `items`), so it can be sent on every keystroke.",
        ),
    ],
    kind: Annotated[
        str | None,
        Query(description="Only these kinds, comma-separated: lab, paper, model, technique"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=20, description="How many suggestions.")] = 10,
) -> JSON:
    """Labs, models, techniques and papers whose name, slug or alias starts with the words."""
    kinds = _kinds(kind, search_queries.ENTITY_KINDS)
    text = _text("q", q, blank_ok=True)
    items = await read(request, search_queries.autocomplete, text, kinds=kinds, limit=limit)
    return JSON({"items": items, "next": None})


@router.get(
    "/resolve",
    response_model=Resolved,
    status_code=307,
    summary="Redirect an arXiv id or a slug to its item",
    responses=errors(404),
)
async def resolve(
    request: Request,
    key: Annotated[
        str,
        Query(
            alias="id",
            max_length=MAX_QUERY,
            description="`arxiv:2407.21783`, `2407.21783`, `2407.21783v2`, or a slug of a lab, "
            "paper, model or technique (`llama-2`).",
        ),
    ],
) -> JSON:
    """A 307 to the item an identifier names (the body says the same); 404 with suggestions."""
    target = await read(request, search_queries.resolve, _text("id", key))
    return JSON(target, status_code=307, headers={"Location": target["url"]})
