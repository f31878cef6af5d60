"""Counts over the whole graph."""

from fastapi import APIRouter

from api.deps import SessionDep
from api.queries import stats as stats_queries
from api.responses import JSON

router = APIRouter(tags=["stats"])


@router.get("/stats", summary="How many entities and relations the graph holds")
def read_stats(session: SessionDep) -> JSON:
    """Counts of labs, papers, models, techniques and of every relation kind."""
    return JSON(stats_queries.graph_counts(session))
