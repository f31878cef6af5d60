"""The FastAPI application: `create_app(settings)` wires the engine, middleware and routers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from api import __version__
from api.conditional import ConditionalGetMiddleware
from api.db import make_engine
from api.errors import add_error_handlers
from api.guards import RequestGuardMiddleware
from api.head import HeadMiddleware
from api.responses import JSON
from api.routes import (
    changes,
    explorer,
    graph,
    introductions,
    labs,
    lineage,
    meta,
    models,
    papers,
    search,
    slides,
    stats,
    techniques,
    timeline,
    transfer,
    writes,
)
from api.routes.docs_ui import mount_docs
from api.security import add_security
from api.settings import Settings, get_settings

DESCRIPTION = """
A knowledge graph of open large language models: **models, papers, labs and techniques**,
linked by typed relations, seeded from the slides of a course chapter and enriched from
verified references. Every fact carries its sources: a verbatim slide quote or a named
reference.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = make_engine(
            settings.database_url, busy_timeout_ms=settings.busy_timeout_ms
        )
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="paperkg",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        default_response_class=JSON,
    )
    app.state.settings = settings
    add_error_handlers(app)
    app.add_middleware(ConditionalGetMiddleware)
    app.add_middleware(
        RequestGuardMiddleware,
        max_body=settings.max_body_bytes,
        max_import_body=settings.max_import_bytes,
    )
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(HeadMiddleware)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=["ETag", "Link", "Location", "Retry-After"],
        )

    app.include_router(meta.router)
    app.include_router(labs.router)
    app.include_router(papers.router)
    app.include_router(models.router)
    app.include_router(lineage.router)
    app.include_router(techniques.router)
    app.include_router(introductions.router)
    app.include_router(slides.router)
    app.include_router(timeline.router)
    app.include_router(search.router)
    app.include_router(stats.router)
    app.include_router(changes.router)
    app.include_router(writes.router)
    app.include_router(graph.router)
    app.include_router(transfer.router)
    app.include_router(explorer.router)
    mount_docs(app)
    add_security(app, settings)
    return app
