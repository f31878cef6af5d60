"""The service itself: the index and the health check."""

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text

from api import __version__
from api.deps import SessionDep
from api.errors import Unavailable
from api.migrate import current_revision, head_revision
from api.queries import stats as stats_queries
from api.responses import JSON

router = APIRouter(tags=["service"])


@router.get("/health", summary="Is the service up and its database reachable?")
def health(request: Request, session: SessionDep) -> JSON:
    """Checks the database; reports the data version and the schema revision."""
    engine = request.app.state.engine
    try:
        session.execute(text("SELECT 1"))
        version = stats_queries.data_version(session)
        revision = current_revision(engine)
    except Exception as error:
        raise Unavailable("The database does not answer.") from error
    body: dict[str, Any] = {
        "status": "ok",
        "database": engine.dialect.name,
        "data_version": version,
        "schema_revision": revision,
        "schema_head": head_revision(engine),
        "version": __version__,
    }
    return JSON(body, headers={"Cache-Control": "no-store"})
