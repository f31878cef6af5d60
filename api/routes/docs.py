"""OpenAPI helpers: the documented error responses of an operation."""

from typing import Any

from models.schemas import ProblemDetail

DESCRIPTIONS = {
    304: "Not modified: the `If-None-Match` ETag still matches.",
    400: "Bad request.",
    404: "No such entity; `suggestions` lists close slugs.",
    409: "Conflict with the current state.",
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
