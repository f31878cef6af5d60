"""Counts over the whole graph."""

from fastapi import APIRouter

from api.deps import SessionDep
from api.queries import stats as stats_queries
from api.responses import JSON

router = APIRouter(tags=["stats"])


@router.get("/stats", summary="How many entities and relations the graph holds, and who leads")
def read_stats(session: SessionDep) -> JSON:
    """Counts of entities and relations; techniques by adopters, labs by models, models per year."""
    return JSON(stats_queries.graph_counts(session) | stats_queries.rankings(session))
