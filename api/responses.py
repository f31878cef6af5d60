"""JSON out with orjson, and the problem+json shape for errors."""

from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from starlette.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"


def dumps(content: Any) -> bytes:
    # Stored timestamps are UTC; SQLite hands them back naive, so say so in the output.
    return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC)


CHUNK = 64 * 1024


def chunked(parts: Iterable[bytes], size: int = CHUNK) -> Iterator[bytes]:
    """Small pieces joined into chunks of about `size` bytes: one send per chunk, not per record."""
    buffer = bytearray()
    for part in parts:
        buffer += part
        if len(buffer) >= size:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


class JSON(JSONResponse):
    """A JSON response rendered by orjson: dates as ISO strings, no pydantic round trip.

    A JSONResponse subclass, so OpenAPI documents routes by their `response_model`.
    """

    def render(self, content: Any) -> bytes:
        return dumps(content)


class Problem(JSON):
    """RFC 9457 problem details."""

    media_type = PROBLEM_JSON
