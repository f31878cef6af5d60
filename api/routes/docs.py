"""OpenAPI helpers: the documented error responses of an operation."""

from typing import Any

from models.schemas import ProblemDetail

DESCRIPTIONS = {
    304: "Not modified: the `If-None-Match` ETag still matches.",
    400: "Bad request.",
    401: "A write key is missing or invalid (`WWW-Authenticate: Bearer`).",
    403: "The service is read-only: no write keys are configured.",
    404: "No such entity; `suggestions` lists close slugs.",
    409: "Conflict: a taken slug or arXiv id, or an entity others still refer to.",
    412: "`If-Match` no longer names the current item.",
    413: "The request body is too large.",
    429: "Too many requests; retry after `Retry-After` seconds.",
    422: "A parameter is invalid; `errors` names each one.",
    503: "The database does not answer.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for these error statuses (422 always), as application/problem+json."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, 422}):
        out[status] = {
            "description": DESCRIPTIONS[status],
            "model": ProblemDetail,
            "content": {"application/problem+json": {}},
        }
    return out
