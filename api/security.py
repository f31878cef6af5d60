"""Security headers and rate limits: the outermost layers of the app.

Headers. Every response says `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
`X-Frame-Options: DENY` and carries a Content-Security-Policy, and never a `Server` header. API
answers (JSON, CSV, problems) get `default-src 'none'`: they are data, never a page. HTML pages
(/docs, /redoc, the explorer) get `default-src 'self'` and may run only their own files plus the
inline `<script>` blocks they were served with, allowed by their SHA-256 hashes, computed here
from the page itself. Swagger UI and ReDoc set inline styles, so /docs and /redoc also allow
`style-src 'unsafe-inline'` (a style cannot run code); other pages allow only hashed `<style>`.

Rate limits. A token bucket per key for writes and per client for the expensive reads (/graph,
/export and what lies under them), refused with 429 and `Retry-After`. Buckets live in the
process: with N workers a client can reach N times the limit (a shared store would be needed to
make it exact). Expensive reads only count when they are answered 2xx, so a refused or cached
(304) answer costs nothing; every write request counts.
"""

import base64
import gzip
import hashlib
import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from api.settings import Settings

EXPENSIVE_PREFIXES = ("/graph", "/export")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
PROBLEM_RESPONSES = {
    status: {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}
        },
    }
    for status, description in {
        400: "Bad request: a NUL byte in the URL, or a body that is not UTF-8.",
        408: "The request body stalled (`PAPERKG_BODY_TIMEOUT_SECONDS`).",
        413: "The request body is too large.",
        422: "The body or a parameter is invalid; `errors` names each one.",
        429: "Too many requests; retry after `Retry-After` seconds.",
        503: "The database is busy; retry after `Retry-After` seconds.",
    }.items()
}
DOCS_PAGES = ("/docs", "/redoc")
MAX_HTML = 2_000_000  # larger pages are not scanned for inline scripts (so none may run)

COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.S | re.I)
INLINE_STYLE = re.compile(rb"<style[^>]*>(.*?)</style\s*>", re.S | re.I)


def _hashes(pattern: re.Pattern[bytes], html: bytes) -> str:
    found = dict.fromkeys(
        "'sha256-" + base64.b64encode(hashlib.sha256(block).digest()).decode() + "'"
        for block in pattern.findall(html)
    )
    return "".join(" " + h for h in found)


def html_policy(path: str, html: bytes | None) -> str:
    """The CSP of an HTML page: its own files, plus its inline blocks by hash."""
    scripts = _hashes(INLINE_SCRIPT, html) if html is not None else ""
    if path in DOCS_PAGES:
        styles = " 'unsafe-inline'"
    else:
        styles = _hashes(INLINE_STYLE, html) if html is not None else ""
    return (
        f"default-src 'self'; script-src 'self'{scripts}; style-src 'self'{styles}; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        held: Message | None = None  # the start of an HTML answer, held until its body is seen
        parts: list[bytes] = []

        async def send_secured(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "server" in headers:
                    del headers["server"]
                for name, value in COMMON_HEADERS:
                    headers.setdefault(name.decode(), value.decode())
                if not headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("content-security-policy", API_POLICY)
                elif int(headers.get("content-length") or 0) > MAX_HTML:
                    headers.setdefault("content-security-policy", html_policy(path, None))
                else:
                    held = message
                    return
            elif held is not None and message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(parts)
                headers = MutableHeaders(scope=held)
                html = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
                headers.setdefault("content-security-policy", html_policy(path, html))
                start, held = held, None
                await send(start)
                message = {"type": "http.response.body", "body": body}
            await send(message)

        await self.app(scope, receive, send_secured)


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float


def parse_rate(text: str) -> Rate | None:
    """`60/minute` -> Rate(60, 60.0); `0` -> None (no limit)."""
    text = text.strip()
    if text == "0":
        return None
    count, _, period = text.partition("/")
    return Rate(int(count), PERIODS[period.strip()])


class TokenBuckets:
    """`rate.count` tokens per client, refilled evenly over `rate.seconds`; LRU-bounded."""

    def __init__(self, rate: Rate, max_clients: int = 10_000) -> None:
        self.capacity = float(rate.count)
        self.per_second = rate.count / rate.seconds
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _level(self, client: str, now: float) -> float:
        tokens, at = self._buckets.pop(client, (self.capacity, now))
        return min(self.capacity, tokens + (now - at) * self.per_second)

    def take(self, client: str) -> float:
        """Take a token: 0 when granted, else the seconds until one is free."""
        with self._lock:
            now = time.monotonic()
            tokens = self._level(client, now)
            granted = tokens >= 1
            self._buckets[client] = (tokens - 1 if granted else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return 0.0 if granted else (1 - tokens) / self.per_second

    def give_back(self, client: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._buckets[client] = (min(self.capacity, self._level(client, now) + 1), now)


def client_of(scope: Scope) -> str:
    client = scope.get("client")
    return "client:" + (str(client[0]) if client else "unknown")


def key_of(scope: Scope) -> str:
    """Writes are limited per key: a hash of the credential (never the key itself)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return "key:" + hashlib.sha256(value).hexdigest()[:32]
    return client_of(scope)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, writes: Rate | None, expensive: Rate | None) -> None:
        self.app = app
        self.writes = TokenBuckets(writes) if writes else None
        self.expensive = TokenBuckets(expensive) if expensive else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        buckets, who, refund = None, "", False
        if scope["method"] in WRITE_METHODS and self.writes is not None:
            buckets, who = self.writes, key_of(scope)
        elif self.expensive is not None and scope["path"].startswith(EXPENSIVE_PREFIXES):
            buckets, who, refund = self.expensive, client_of(scope), True
        if buckets is None:
            await self.app(scope, receive, send)
            return
        wait = buckets.take(who)
        if wait > 0:
            retry = str(max(1, math.ceil(wait)))
            detail = f"Too many requests; retry in {retry} s."
            await problem(429, "Too many requests", detail, "rate-limited", {"Retry-After": retry})(
                scope, receive, send
            )
            return
        if not refund:
            await self.app(scope, receive, send)
            return

        async def send_refunding(message: Message) -> None:
            if message["type"] == "http.response.start" and not 200 <= message["status"] < 300:
                buckets.give_back(who)
            await send(message)

        await self.app(scope, receive, send_refunding)


def document_guards(app: FastAPI) -> None:
    """Add the answers of the guards and limits to every operation they apply to in OpenAPI."""
    make_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = make_schema()
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                statuses = [400]  # a NUL byte in the URL
                if method.upper() in BODY_METHODS:
                    statuses += [408, 413, 422]  # a stalled, oversized or malformed body
                if method.upper() in WRITE_METHODS:
                    statuses += [429, 503]  # the write limit; a database too busy to wait for
                elif path.startswith(EXPENSIVE_PREFIXES):
                    statuses += [429]
                responses = operation.setdefault("responses", {})
                for status in statuses:
                    responses.setdefault(str(status), PROBLEM_RESPONSES[status])
        app.openapi_schema = schema
        return schema

    setattr(app, "openapi", openapi)  # noqa: B010


def add_security(app: FastAPI, settings: Settings) -> None:
    """Security headers on every response; rate limits for writes and expensive reads."""
    document_guards(app)
    app.add_middleware(
        RateLimitMiddleware,
        writes=parse_rate(settings.rate_limit_writes),
        expensive=parse_rate(settings.rate_limit_expensive),
    )
    # Outside Starlette's ServerErrorMiddleware too, so that a 500 carries the headers as well.
    build = app.build_middleware_stack
    setattr(app, "build_middleware_stack", lambda: SecurityHeadersMiddleware(build()))  # noqa: B010
