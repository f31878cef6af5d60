"""Checks made before any route runs: the URL, the size and pace of the body, and JSON bodies.

- A NUL byte in the path or query string is a 400.
- A body over the limit (`PAPERKG_MAX_IMPORT_BYTES` for /import and /decks,
  `PAPERKG_MAX_BODY_BYTES` elsewhere) is refused with 413 as soon as its `Content-Length` says
  so, or, for a chunked body, as soon as the bytes received pass the limit: it is never read
  whole.
- A client that stops sending its body for `PAPERKG_BODY_TIMEOUT_SECONDS` gets a 408, so a slow
  client cannot keep a request open forever.
- A JSON body of a POST, PUT or PATCH is checked here, in one place, before a route parses it:
  invalid UTF-8 is a 400; a duplicate key (which JSON parsers resolve silently, each its own
  way), nesting deeper than `MAX_DEPTH`, and `NaN` / `Infinity` are a 422 that says which.
"""

import asyncio
import json
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem

MAX_DEPTH = 32
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
DEFAULT_BODY_TIMEOUT = 30.0
TITLES = {408: ("Request timeout", "timeout"), 413: ("Payload too large", "too-large")}


class BodyError(HTTPException):
    """Raised while the body is received; FastAPI passes HTTPExceptions on to the handler."""


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(key)
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(document: Any) -> int:
    """How deeply arrays and objects nest (iteratively: no recursion on hostile input)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, level + 1) for item in items)
    return deepest


def json_problem(body: bytes) -> ASGIApp | None:
    """The problem with a JSON body, or None when a route may parse it."""
    if not body.strip():
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        detail = f"The body is not valid UTF-8 (byte {error.start})."
        return problem(400, "Bad request", detail, "bad-request")
    try:
        document = json.loads(text, object_pairs_hook=_unique, parse_constant=_refuse_constant)
    except DuplicateKey as error:
        return _invalid("body", f"the key {error.key!r} appears more than once")
    except RecursionError:
        return _invalid("body", f"nested more than {MAX_DEPTH} levels deep")
    except json.JSONDecodeError:
        return None  # the route answers malformed JSON with its own 422, naming the position
    except ValueError as error:
        return _invalid("body", str(error))
    if _depth(document) > MAX_DEPTH:
        return _invalid("body", f"nested more than {MAX_DEPTH} levels deep")
    return None


def _invalid(param: str, detail: str) -> ASGIApp:
    return problem(
        422, "Invalid request", f"{param}: {detail}", "invalid-parameter",
        errors=[{"param": param, "in": "body", "detail": detail}],
    )  # fmt: skip


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media: bytes = value.split(b";")[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


class RequestGuardMiddleware:
    def __init__(self, app: ASGIApp, *, max_body: int, max_import_body: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_import_body = max_import_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        if b"\x00" in unquote_to_bytes(raw_path) or b"\x00" in unquote_to_bytes(
            scope.get("query_string", b"")
        ):
            await problem(400, "Bad request", "NUL bytes are not allowed in a URL.", "bad-request")(
                scope, receive, send
            )
            return
        limit = self.max_import_body if scope["path"] in ("/import", "/decks") else self.max_body
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(limit)(scope, receive, send)
            return
        guarded = self._guarded(receive, limit, _body_timeout(scope))
        try:
            if scope["method"] in BODY_METHODS and _is_json(scope):
                body = await _read_all(guarded)
                refusal = json_problem(body)
                if refusal is not None:
                    await refusal(scope, receive, send)
                    return
                guarded = _replay(body, receive)
            await self.app(scope, guarded, send)
        except BodyError as error:
            title, kind = TITLES[error.status_code]
            await problem(error.status_code, title, str(error.detail), kind)(scope, receive, send)

    @staticmethod
    def _guarded(receive: Receive, limit: int, timeout: float) -> Receive:
        """`receive`, refusing a body over `limit` bytes or one that stalls for `timeout` s."""
        received, complete = 0, False

        async def guarded() -> Message:
            nonlocal received, complete
            if complete:  # after the body only a disconnect can come: wait for it freely
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError as error:
                detail = f"The request body did not arrive within {timeout:g} s."
                raise BodyError(408, detail) from error
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > limit:
                    raise BodyError(413, f"The request body is over {limit} bytes.")
            return message

        return guarded

    @staticmethod
    def _too_large(limit: int) -> ASGIApp:
        return problem(
            413, "Payload too large", f"The request body is over {limit} bytes.", "too-large"
        )


def _body_timeout(scope: Scope) -> float:
    app = scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    return float(getattr(settings, "body_timeout_seconds", DEFAULT_BODY_TIMEOUT))


async def _read_all(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body read already, then waits on the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
