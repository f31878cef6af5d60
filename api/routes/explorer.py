"""The explorer: a static single-page frontend at /explore that reads the public JSON API."""

import hashlib
import re
from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.errors import NotFound

router = APIRouter(tags=["explorer"], include_in_schema=False)

ASSET_NAME = re.compile(r"[a-z][a-z0-9-]*\.(js|css|svg|png|html)")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
}
# Revalidate every time: the ETag is the file's hash, so a new release is seen at once.
CACHE_CONTROL = "no-cache"


@cache
def _asset(name: str) -> tuple[bytes, str] | None:
    """The bytes of one file of api/static/explorer and its ETag, or None when there is none."""
    resource = files("api") / "static" / "explorer" / name
    if not resource.is_file():
        return None
    body = resource.read_bytes()
    return body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _serve(request: Request, name: str) -> Response:
    match = ASSET_NAME.fullmatch(name)
    found = _asset(name) if match else None
    if match is None or found is None:
        raise NotFound("explorer file", name)
    body, etag = found
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPES[match.group(1)], headers=headers)


@router.get("/explore", summary="The explorer: timeline, entities, who introduced what, graph")
def explore(request: Request) -> Response:
    """The explorer's page; its views live in the URL fragment (`/explore#/models/llama-2`)."""
    return _serve(request, "index.html")


@router.get("/explore/{name}", summary="A file of the explorer (script, style sheet, icon)")
def explore_asset(name: str, request: Request) -> Response:
    """One static file of the explorer, served from the package."""
    return _serve(request, name)
