"""Writes: create, replace, patch and delete each kind of entity, and set model-technique links.

The four kinds share one set of handlers, made by `add_write_routes`; the differences between
kinds live in `api.queries.writes.KINDS`.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from starlette.responses import Response

from api.auth import WriteKeyDep
from api.deps import SessionDep
from api.errors import NotFound
from api.etags import check_if_match, etag_of
from api.queries import links, writes
from api.queries.common import url_of
from api.responses import JSON
from api.routes.docs import errors
from models.writes import LinkWrite

router = APIRouter()
WRITE_ERRORS = errors(401, 403, 404, 409, 412)
MERGE_PATCH = {"application/merge-patch+json": {"schema": {"type": "object"}}}


def _current(session: Any, kind: writes.WriteKind, slug: str) -> dict[str, Any] | None:
    try:
        return kind.read(session, slug)
    except NotFound:
        return None


def _written(item: dict[str, Any], kind: str, status: int) -> JSON:
    headers = {"ETag": etag_of(item)}
    if status == 201:
        headers["Location"] = url_of(kind, item["slug"])
    return JSON(item, status_code=status, headers=headers)


def add_write_routes(kind: writes.WriteKind, collection: str) -> None:
    schema = kind.schema
    path = f"/{collection}"
    tags: list[str | Any] = [collection]

    @router.post(
        path, status_code=201, tags=tags, summary=f"Create a {kind.name}", responses=WRITE_ERRORS
    )
    def create(body: schema, session: SessionDep, key: WriteKeyDep) -> JSON:  # type: ignore[valid-type]
        """Create it from the same fields an item has; related entities by slug. 201 + Location."""
        return _written(writes.create(session, kind.name, body, key.name), kind.name, 201)

    @router.put(
        path + "/{slug}", tags=tags, summary=f"Replace (or create) a {kind.name}",
        responses=WRITE_ERRORS,
    )  # fmt: skip
    def replace(
        slug: str,
        body: schema,  # type: ignore[valid-type]
        request: Request,
        session: SessionDep,
        key: WriteKeyDep,
    ) -> JSON:
        """Replace every writable field; omitted optional fields become empty. Honours If-Match."""
        check_if_match(request, _current(session, kind, slug))
        item, created = writes.replace(session, kind.name, slug, body, key.name)
        return _written(item, kind.name, 201 if created else 200)

    @router.patch(
        path + "/{slug}", tags=tags, summary=f"Change some fields of a {kind.name}",
        responses=WRITE_ERRORS, openapi_extra={"requestBody": {"content": MERGE_PATCH}},
    )  # fmt: skip
    def patch(
        slug: str,
        changes: Annotated[dict[str, Any], Body(media_type="application/merge-patch+json")],
        request: Request,
        session: SessionDep,
        key: WriteKeyDep,
    ) -> JSON:
        """A JSON merge patch (RFC 7386): given fields change, `null` clears. Honours If-Match."""
        current = _current(session, kind, slug)
        if current is None:
            raise NotFound(kind.name, slug)
        check_if_match(request, current)
        body = writes.validate(kind, writes.merge_patch(current, changes))
        item, _ = writes.replace(session, kind.name, slug, body, key.name)
        return _written(item, kind.name, 200)

    @router.delete(
        path + "/{slug}", status_code=204, tags=tags, summary=f"Delete a {kind.name}",
        responses=WRITE_ERRORS,
    )  # fmt: skip
    def remove(
        slug: str,
        request: Request,
        session: SessionDep,
        key: WriteKeyDep,
        cascade: Annotated[
            bool, Query(description="Detach the entities that refer to it.")
        ] = False,
    ) -> Response:
        """409 names the entities that refer to it, unless `cascade=true` detaches them."""
        check_if_match(request, _current(session, kind, slug))
        writes.remove(session, kind.name, slug, key.name, cascade=cascade)
        return Response(status_code=204)


for _kind, _collection in (("lab", "labs"), ("paper", "papers"), ("model", "models"),
                           ("technique", "techniques")):  # fmt: skip
    add_write_routes(writes.KINDS[_kind], _collection)


@router.put(
    "/models/{slug}/techniques/{technique}",
    tags=["models"],
    summary="Say that a model uses (or does not use) a technique",
    responses=WRITE_ERRORS,
)
def put_link(
    slug: str, technique: str, body: LinkWrite, session: SessionDep, key: WriteKeyDep
) -> JSON:
    """Create or replace the link, with its evidence and reference sources."""
    link, created = links.put_link(session, slug, technique, body, key.name)
    return JSON(link, status_code=201 if created else 200)


@router.delete(
    "/models/{slug}/techniques/{technique}",
    status_code=204,
    tags=["models"],
    summary="Remove a model-technique link",
    responses=WRITE_ERRORS,
)
def delete_link(slug: str, technique: str, session: SessionDep, key: WriteKeyDep) -> Response:
    """The link and its sources go; the model and the technique stay."""
    links.delete_link(session, slug, technique, key.name)
    return Response(status_code=204)
