"""Entity tags of items: a hash of the representation, for `If-None-Match` and `If-Match`.

An item embeds the names of related entities, so only its full representation can say whether it
changed. The tag is computed from the same body a GET returns; a write with `If-Match` recomputes
it from the current item and refuses (412) when it differs.
"""

import hashlib
from typing import Any

from fastapi import Request
from starlette.responses import Response

from api.errors import PreconditionFailed
from api.responses import JSON, dumps


def etag_of(item: Any) -> str:
    return _tag(dumps(item))


def _tag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def item_response(request: Request, item: Any) -> Response:
    """200 with the item and its ETag, or 304 when the client's copy is current."""
    body = dumps(item)  # encoded once: hashed for the tag, then sent
    etag = _tag(body)
    if etag in _tags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type=JSON.media_type, headers={"ETag": etag})


def check_if_match(request: Request, current: Any | None) -> None:
    """Refuse a write whose `If-Match` no longer names the current item (or names a missing one)."""
    header = request.headers.get("if-match")
    if header is None:
        return
    tags = _tags(header)
    if current is not None and ("*" in tags or etag_of(current) in tags):
        return
    raise PreconditionFailed(
        "The item changed since you read it (If-Match does not match); fetch it again."
    )
