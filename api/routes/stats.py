"""Counts over the whole graph."""

from fastapi import APIRouter, Request

from api.db import read
from api.queries import stats as stats_queries
from api.responses import JSON

router = APIRouter(tags=["stats"])


@router.get("/stats", summary="How many entities and relations the graph holds, and who leads")
async def read_stats(request: Request) -> JSON:
    """Counts of entities and relations; techniques by adopters, labs by models, models per year."""
    return JSON(await read(request, stats_queries.summary))
