"""One error hierarchy and one set of handlers: every error is RFC 9457 application/problem+json."""

import difflib
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.responses import Problem

log = logging.getLogger("paperkg")

# Problem types are relative URIs, resolved against the service itself.
PROBLEM_BASE = "/problems/"


class ApiError(Exception):
    status = 500
    title = "Internal server error"
    type = "internal"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}


class NotFound(ApiError):
    status = 404
    title = "Not found"
    type = "not-found"

    def __init__(self, kind: str, key: str, *, candidates: list[str] | None = None) -> None:
        suggestions = difflib.get_close_matches(key.lower(), candidates or [], n=5, cutoff=0.5)
        detail = f"No {kind} '{key}'."
        if suggestions:
            detail += " Did you mean: " + ", ".join(suggestions) + "?"
        super().__init__(detail, kind=kind, key=key, suggestions=suggestions)


class InvalidParam(ApiError):
    """A request parameter that parsed but cannot be honoured: names the parameter."""

    status = 422
    title = "Invalid parameter"
    type = "invalid-parameter"

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{name}: {detail}", errors=[{"param": name, "detail": detail}])


class Conflict(ApiError):
    status = 409
    title = "Conflict"
    type = "conflict"


class Unavailable(ApiError):
    status = 503
    title = "Service unavailable"
    type = "unavailable"


def problem(
    status: int,
    title: str,
    detail: str,
    type_: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Problem:
    body = {"type": PROBLEM_BASE + type_, "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return Problem(body, status_code=status, headers=headers)


def _param_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """`("query", "limit")` -> "limit"; `("body", "lab", "slug")` -> "lab.slug"."""
    parts = [str(p) for p in loc[1:]] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts) or "request"


async def _validation_error(_: Request, exc: Exception) -> Problem:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "param": _param_name(e.get("loc", ())),
            "in": str(e.get("loc", ("?",))[0]),
            "detail": e.get("msg", "invalid"),
        }
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['param']}: {e['detail']}" for e in errors)
    return problem(422, "Invalid request", detail, "invalid-parameter", errors=errors)


async def _api_error(_: Request, exc: Exception) -> Problem:
    assert isinstance(exc, ApiError)
    return problem(exc.status, exc.title, exc.detail, exc.type, exc.headers or None, **exc.extra)


async def _http_error(_: Request, exc: Exception) -> Problem:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 413: "Payload too large"}
    detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
    return problem(
        exc.status_code,
        titles.get(exc.status_code, "Error"),
        detail,
        f"http-{exc.status_code}",
        dict(exc.headers) if exc.headers else None,
    )


async def _pool_exhausted(_: Request, exc: Exception) -> Problem:
    # Every pooled connection is held (by long downloads, say): a "try again", not a failure.
    detail = "Every database connection is busy; retry shortly."
    return problem(503, "Service unavailable", detail, "unavailable", {"Retry-After": "1"})


async def _unexpected(request: Request, exc: Exception) -> Problem:
    # The trace goes to the log, never to the client.
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "Internal server error", "The server failed to answer.", "internal")


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(Exception, _unexpected)


class Unauthorized(ApiError):
    status = 401
    title = "Unauthorized"
    type = "unauthorized"

    def __init__(self, detail: str, *, error: str | None = None) -> None:
        super().__init__(detail)
        challenge = 'Bearer realm="paperkg"'
        if error:
            challenge += f', error="{error}"'
        self.headers = {"WWW-Authenticate": challenge}


class Forbidden(ApiError):
    status = 403
    title = "Forbidden"
    type = "read-only"


class PreconditionFailed(ApiError):
    status = 412
    title = "Precondition failed"
    type = "precondition-failed"
