"""ETags from the data version, 304 answers and a response cache, all before any route runs.

Every write bumps the single `data_version` row, so (version, path, query, Accept) names a GET
response exactly. This layer sits in front of the router and, per GET or HEAD:

1. reads the current data version from the database (`api.cache`: about a microsecond on
   SQLite), so a write made through any worker is seen by every worker's next request;
2. answers from the cache when it holds the response for this key at this version: the encoded
   body and headers as the route made them, or a 304 when `If-None-Match` names its ETag;
3. otherwise answers a matching `If-None-Match` with a 304 at once, or runs the route, adds the
   ETag, and keeps a 200 JSON, CSV or text answer for the next request.

Gzip sits outside this layer, so entries hold uncompressed bodies and every client gets the
encoding it asked for. `PAPERKG_CACHE=off` keeps the ETags and 304s and drops the cache.
"""

import hashlib

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.cache import Entry, Key, ResponseCache, VersionSource, version_source

UNCACHED_PATHS = ("/health",)
CACHE_CONTROL = "public, no-cache"  # always revalidate; a 304 costs one version read
CACHED_TYPES = (b"application/json", b"text/csv", b"text/plain", b"application/x-ndjson")
HIT, MISS = (b"x-cache", b"hit"), (b"x-cache", b"miss")


def etag_for(version: int, key: Key) -> str:
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).hexdigest()
    return f'W/"{version}-{digest}"'


def matches(if_none_match: str, etag: str) -> bool:
    candidates = [c.strip() for c in if_none_match.split(",")]
    weak = etag.removeprefix("W/")
    return "*" in candidates or any(c.removeprefix("W/") == weak for c in candidates)


def request_headers(scope: Scope) -> tuple[bytes, str, bool]:
    """Accept, If-None-Match, and whether the request carries a credential (never cached)."""
    accept, if_none_match, private = b"", "", False
    for name, value in scope["headers"]:
        if name == b"accept":
            accept = value
        elif name == b"if-none-match":
            if_none_match = value.decode("latin-1")
        elif name == b"authorization":
            private = True
    return accept, if_none_match, private


def cacheable(headers: list[tuple[bytes, bytes]]) -> bool:
    """A complete, shareable, uncompressed JSON, CSV or text answer."""
    typed = False
    for name, value in headers:
        if name == b"content-type":
            typed = value.startswith(CACHED_TYPES)
        elif name in (b"content-encoding", b"set-cookie"):
            return False
        elif name == b"cache-control" and (b"no-store" in value or b"private" in value):
            return False
    return typed


async def send_not_modified(send: Send, etag: str) -> None:
    headers = [(b"etag", etag.encode()), (b"cache-control", CACHE_CONTROL.encode())]
    await send({"type": "http.response.start", "status": 304, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


class _Layer:
    """What the middleware needs per app: the version source and the cache (None when off)."""

    def __init__(self, versions: VersionSource, cache: ResponseCache | None) -> None:
        self.versions = versions
        self.cache = cache


class ConditionalGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.layer: _Layer | None = None
        self.running = False  # between the lifespan's startup and its shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, self._closing_on_shutdown(send))
                return
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        layer = self.layer or self._start(scope)
        if (
            layer is None
            or method not in ("GET", "HEAD")
            or scope["path"].startswith(UNCACHED_PATHS)
        ):
            await self.app(scope, receive, send)
            return
        version = await layer.versions.current()
        if version is None:
            await self.app(scope, receive, send)
            return
        accept, if_none_match, private = request_headers(scope)
        key: Key = (scope.get("root_path", ""), scope["path"], scope["query_string"], accept)
        # Only GETs are kept and served: a HEAD gets whatever the router answers it.
        cache = None if private or method != "GET" else layer.cache
        if cache is not None:
            entry = cache.get(key, version)
            if entry is not None:
                if if_none_match and matches(if_none_match, entry.etag):
                    await send_not_modified(send, entry.etag)
                    return
                # A copy: the layers outside (gzip) edit the headers of the message they pass.
                headers = list(entry.headers)
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": entry.body})
                return
        etag = etag_for(version, key)
        if if_none_match and matches(if_none_match, etag):
            await send_not_modified(send, etag)
            return
        if cache is None:
            await self.app(scope, receive, self._tagging(send, etag))
            return
        await self.app(scope, receive, self._keeping(send, etag, cache, key, version))

    def _start(self, scope: Scope) -> _Layer | None:
        """Set up on the first request, once the lifespan has made the engine."""
        state = scope["app"].state
        engine = getattr(state, "engine", None)
        if engine is None or not self.running:
            return None
        settings = state.settings
        cache = None
        if settings.cache == "on":
            cache = ResponseCache(settings.cache_max_entries, settings.cache_max_bytes)
        self.layer = _Layer(version_source(engine), cache)
        return self.layer

    def _closing_on_shutdown(self, send: Send) -> Send:
        async def send_after_closing(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                self.running = True
            elif message["type"].startswith("lifespan.shutdown"):
                self.running = False
                layer, self.layer = self.layer, None
                if layer is not None:
                    await layer.versions.close()
            await send(message)

        return send_after_closing

    @staticmethod
    def _tagging(send: Send, etag: str) -> Send:
        async def send_with_etag(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = MutableHeaders(scope=message)
                headers.setdefault("etag", etag)
                headers.setdefault("cache-control", CACHE_CONTROL)
            await send(message)

        return send_with_etag

    @staticmethod
    def _keeping(send: Send, etag: str, cache: ResponseCache, key: Key, version: int) -> Send:
        """Send the route's answer on as it comes, and keep a copy when it may be reused."""
        kept: list[tuple[bytes, bytes]] | None = None
        parts: list[bytes] = []
        size = 0

        async def send_and_keep(message: Message) -> None:
            nonlocal etag, kept, size
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    headers = MutableHeaders(scope=message)
                    # A route may tag its answer itself (items: a hash of the body); keep its tag.
                    etag = headers.setdefault("etag", etag)
                    headers.setdefault("cache-control", CACHE_CONTROL)
                    if cacheable(message["headers"]):
                        kept = [h for h in message["headers"] if h[0] != b"content-length"]
                        message["headers"].append(MISS)
            elif message["type"] == "http.response.body" and kept is not None:
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > cache.max_entry_bytes:
                    kept, parts[:] = None, []
                else:
                    parts.append(chunk)
                    if not message.get("more_body", False):
                        body = b"".join(parts)
                        length = (b"content-length", str(len(body)).encode())
                        cache.put(key, version, Entry(etag, [*kept, length, HIT], body))
            await send(message)

        return send_and_keep
