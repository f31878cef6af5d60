"""The change feed, for frontends that sync incrementally."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.listing import list_page
from api.params import ListDep
from api.queries.changes import CHANGES
from api.routes.docs import errors
from models import tables as t

router = APIRouter(tags=["changes"])


@router.get("/changes", summary="What changed after a data version", responses=errors())
async def list_changes(
    request: Request,
    query: ListDep,
    since: Annotated[
        int, Query(ge=0, le=2**62, description="A data version; changes after it.")
    ] = 0,
) -> Response:
    """Created, updated and deleted entities after `since`, oldest first, paged."""
    where = [t.change.c.version > since]
    return await list_page(request, CHANGES, query, where)
