"""The service itself: the index, the health check and a guide for language-model agents."""

from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.responses import PlainTextResponse

from api import __version__
from api.db import read
from api.deps import SessionDep
from api.errors import Unavailable
from api.migrate import current_revision, head_revision
from api.queries import stats as stats_queries
from api.responses import JSON

router = APIRouter(tags=["service"])

COLLECTIONS = ["labs", "papers", "models", "techniques", "slides", "decks"]
QUESTIONS = {
    "timeline": "/timeline",
    "introductions": "/introductions",
    "search": "/search?q=latent",
    "autocomplete": "/autocomplete?q=mix",
    "resolve": "/resolve?id=arxiv:2405.04434",
    "stats": "/stats",
}

# A guide for language-model agents; `{version}` is filled in per request.
LLMS_TXT = (files("api") / "static" / "llms.txt").read_text(encoding="utf-8")


@router.get("/", summary="The index: what this service is and where everything is")
async def index(request: Request) -> JSON:
    """Name, version, data version and links to every collection and question."""
    return JSON(
        {
            "name": "paperkg",
            "description": "A knowledge graph of open large language models, sourced fact by fact.",
            "version": __version__,
            "data_version": await read(request, stats_queries.data_version),
            "collections": {name: f"/{name}" for name in COLLECTIONS},
            "questions": QUESTIONS,
            "docs": {"swagger": "/docs", "redoc": "/redoc", "openapi": "/openapi.json"},
            "explorer": "/explore",
            "llms_txt": "/llms.txt",
            "health": "/health",
        }
    )


@router.get("/llms.txt", summary="A plain-text guide to this API for language-model agents")
async def llms_txt(request: Request) -> PlainTextResponse:
    """What the graph holds, the main endpoints and example calls, as plain text."""
    return PlainTextResponse(
        LLMS_TXT.replace("{version}", str(await read(request, stats_queries.data_version)))
    )


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
        "schema_head": head_revision(),
        "version": __version__,
    }
    return JSON(body, headers={"Cache-Control": "no-store"})
