"""JSON out with orjson, and the problem+json shape for errors."""

from typing import Any

import orjson
from starlette.responses import Response

PROBLEM_JSON = "application/problem+json"


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class JSON(Response):
    """A JSON response rendered by orjson: dates as ISO strings, no pydantic round trip."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


class Problem(JSON):
    """RFC 9457 problem details."""

    media_type = PROBLEM_JSON
