"""Checks made before any route runs: NUL bytes in the URL, and request bodies that are too big.

A body over the limit is refused with 413 as soon as its `Content-Length` says so, or, for a
chunked body, as soon as the bytes received pass the limit: it is never read whole.
"""

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem


class BodyTooLarge(Exception):
    pass


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
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            await self._too_large(limit)(scope, receive, send)

    @staticmethod
    def _too_large(limit: int) -> ASGIApp:
        return problem(
            413, "Payload too large", f"The request body is over {limit} bytes.", "too-large"
        )
