"""JSON out with orjson, and the problem+json shape for errors."""

from typing import Any

import orjson
from starlette.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"


def dumps(content: Any) -> bytes:
    # Stored timestamps are UTC; SQLite hands them back naive, so say so in the output.
    return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC)


class JSON(JSONResponse):
    """A JSON response rendered by orjson: dates as ISO strings, no pydantic round trip.

    A JSONResponse subclass, so OpenAPI documents routes by their `response_model`.
    """

    def render(self, content: Any) -> bytes:
        return dumps(content)


class Problem(JSON):
    """RFC 9457 problem details."""

    media_type = PROBLEM_JSON
