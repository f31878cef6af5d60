"""Model lineage: what a model derives from, and what derives from it."""

from fastapi import APIRouter, Request

from api.db import read
from api.queries import lineage as lineage_queries
from api.responses import JSON
from api.routes.docs import errors
from models.timeline import Lineage

router = APIRouter(tags=["models"])


@router.get(
    "/models/{slug}/lineage",
    response_model=Lineage,
    summary="A model's ancestors and descendants, at any depth",
    responses=errors(404),
)
async def read_lineage(slug: str, request: Request) -> JSON:
    """Ancestors from the parent (depth 1) up, each with how the model below derives from it;
    descendants generation by generation (depth 1 = children), each with its derivation and
    parent. Derivations: successor, architecture, weights or distilled."""
    return JSON(await read(request, lineage_queries.lineage, slug))
