"""Hostile input: every body field, path and query parameter, and malformed JSON bodies.

Each answer is a 4xx problem that changes nothing, or a 2xx for input that is legal; never a
5xx, and the next request still works.
"""

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import count
from typing import Any

import pytest
from pydantic import BaseModel
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from models.writes import LabWrite, LinkWrite, ModelWrite, PaperWrite, TechniqueWrite
from tests.databases import seeded_database
from tests.helpers import assert_problem

AUTH = {"Authorization": "Bearer h0stile-key"}
JSON = AUTH | {"Content-Type": "application/json"}
MEGABYTE = "x" * 1_000_000
VALUES: list[Any] = [
    "'; DROP TABLE model; --",
    MEGABYTE,
    "y" * 5000,
    "a\x00b",
    "\ud800",  # a lone surrogate: valid JSON, not valid Unicode
    "🦙 نموذج \u202eevil",
    -1,
    2**64,
    10**400,
    1.5,
    True,
    None,
    {"a": {"b": [1]}},
]
RAW_BODIES = [
    b'{"slug": "dup-key", "slug": "dup-key-2", "name": "Dup"}',
    b'{"slug": "bad-utf8", "name": "\xff\xfe"}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b'{"slug": "nan", "name": "N", "parameters": NaN}',
    b'{"slug": ',
    b"\x00\x00\x00",
    b"",
]
WRITE_TARGETS: list[tuple[str, str, type[BaseModel], dict[str, Any]]] = [
    ("post", "/labs", LabWrite, {"name": "Hostile Lab"}),
    ("post", "/papers", PaperWrite, {"title": "Hostile paper"}),
    ("post", "/models", ModelWrite, {"name": "Hostile model"}),
    ("post", "/techniques", TechniqueWrite, {"name": "Hostile", "category": "attention"}),
    ("put", "/models/llama/techniques/rope", LinkWrite, {"relation": "uses"}),
]
# A live server's HTTP parser refuses request lines over 16 KB (h11's default limit) before the
# app sees them; SQL, quotes and FTS syntax in every parameter are tests/test_contract.py's.
QUERY_VALUES = ["q" * 16_000, "%FF%FE", "%C0%AF", "🦙\u202e"]


@pytest.fixture(scope="module")
def hostile(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with seeded_database(dialect, tmp_path_factory.mktemp("hostile")) as url:
        settings = Settings(database_url=url, api_keys="h:h0stile-key", rate_limit_writes="0")
        with TestClient(create_app(settings)) as client:
            yield client


def version(client: TestClient) -> int:
    """The data version, read from the database (cheaper than /health, which also migrates)."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT version FROM data_version").scalar_one())


def check(client: TestClient, response: Any, before: int) -> None:
    """A 2xx, or a 4xx problem that changed nothing; either way the service still answers."""
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert_problem(response, response.status_code)
        assert version(client) == before, response.text[:500]
    else:
        assert version(client) > before


def test_every_body_field_takes_hostile_values(hostile: TestClient) -> None:
    serial = count()
    for method, url, schema, base in WRITE_TARGETS:
        for field in schema.model_fields:
            for value in VALUES:
                slug = f"hostile-{next(serial)}"
                body = (
                    {"slug": slug, **base, field: value}
                    if method == "post"
                    else base | {field: value}
                )
                before = version(hostile)
                response = hostile.request(method, url, content=json.dumps(body), headers=JSON)
                check(hostile, response, before)
                if response.status_code == 201 and method == "post":
                    stored = hostile.get(response.headers["location"])
                    assert stored.status_code == 200
                    if isinstance(value, str) and field in ("name", "title") and value.strip():
                        assert stored.json()[field] == value.strip()  # kept as given


@pytest.mark.parametrize("raw", RAW_BODIES, ids=range(len(RAW_BODIES)))
def test_malformed_bodies_are_refused_as_problems(hostile: TestClient, raw: bytes) -> None:
    for method, url, _, _ in WRITE_TARGETS[:1] + WRITE_TARGETS[-1:]:
        for media in ("application/json", "application/merge-patch+json"):
            before = version(hostile)
            response = hostile.request(
                method, url, content=raw, headers=AUTH | {"Content-Type": media}
            )
            assert 400 <= response.status_code < 500, response.text[:300]
            assert_problem(response, response.status_code)
            assert version(hostile) == before
    patch = hostile.patch(
        "/labs/meta", content=raw, headers=AUTH | {"Content-Type": "application/merge-patch+json"}
    )
    assert_problem(patch, patch.status_code)
    assert 400 <= patch.status_code < 500


def test_duplicate_keys_are_named(hostile: TestClient) -> None:
    body = assert_problem(
        hostile.post(
            "/labs", content=RAW_BODIES[0], headers=AUTH | {"Content-Type": "application/json"}
        ),
        422,
        "body",
    )
    assert "'slug'" in body["detail"]


@pytest.mark.parametrize("slug", ["'; DROP TABLE lab; --", "🦙\u202e", "x" * 5000, "%FF", "a%00b"])
def test_hostile_path_parameters(hostile: TestClient, slug: str) -> None:
    for method in ("get", "put", "patch", "delete"):
        before = version(hostile)
        body = {"slug": slug, "name": "X"} if method != "get" else None
        response = hostile.request(method, f"/labs/{slug}", json=body, headers=AUTH)
        assert response.status_code in (400, 404, 422), (method, response.text[:300])
        assert_problem(response, response.status_code)
        assert version(hostile) == before
    for value in ("maybe", "'; --", "%00", "1" * 1000):
        before = version(hostile)
        response = hostile.delete(f"/labs/meta?cascade={value}", headers=AUTH)
        assert response.status_code in (400, 422), response.text[:300]
        assert version(hostile) == before


def test_every_query_parameter_takes_hostile_values(hostile: TestClient) -> None:
    """Beyond tests/test_contract.py: 1 MB values, invalid UTF-8 escapes, RTL text, NUL."""
    schema = hostile.get("/openapi.json").json()
    seen = 0
    for path, methods in schema["paths"].items():
        operation = methods.get("get")
        if operation is None:
            continue
        url = path.replace("{slug}", "llama").replace("{key}", "2307.09288")
        url = url.replace("{number}", "3").replace("{deck}", "4-open-source-llm-milestones")
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            for value in QUERY_VALUES:
                seen += 1
                response = hostile.get(f"{url}?{parameter['name']}={value}")
                assert response.status_code < 500, (url, parameter["name"], response.text[:300])
                if response.status_code >= 400:
                    assert_problem(response, response.status_code)
    assert seen > 50
    assert hostile.get("/models/llama").json()["slug"] == "llama"
    assert hostile.get("/health").status_code == 200


@pytest.mark.parametrize(
    "q", ['"', "NEAR(", '"unbalanced', "a AND OR NOT", "*", "^x", "col:x", "(("]
)
def test_full_text_syntax_in_q_is_a_normal_search(hostile: TestClient, q: str) -> None:
    for path in ("/search", "/autocomplete"):
        response = hostile.get(path, params={"q": q})
        assert response.status_code in (200, 422), response.text
        if response.status_code == 422:
            assert_problem(response, 422, "q")


def test_a_chunked_body_over_the_limit_is_refused(hostile: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"slug": "huge", "name": "'
        for _ in range(200):
            yield b"x" * 10_000
        yield b'"}'

    before = version(hostile)
    response = hostile.post("/labs", content=chunks(), headers=JSON)
    assert_problem(response, 413)
    assert version(hostile) == before


def test_a_stalled_body_is_a_408(hostile: TestClient) -> None:
    url = str(hostile.app.state.settings.database_url)  # type: ignore[attr-defined]
    app = create_app(Settings(database_url=url, api_keys="h:h0stile-key", body_timeout_seconds=0.2))
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not messages:
            messages.append({"type": "sent"})
            return {"type": "http.request", "body": b'{"slug": "slow', "more_body": True}
        await asyncio.sleep(10)  # the client stalls (well past the timeout)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/labs", "raw_path": b"/labs", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [(b"content-type", b"application/json"),
                    (b"authorization", b"Bearer h0stile-key")],
    }  # fmt: skip
    with TestClient(app):
        started = time.monotonic()
        # A thread of its own: its event loop cannot clash with one left by another test.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, asyncio.wait_for(app(scope, receive, send), 5)).result()
        assert time.monotonic() - started < 3
    start = next(m for m in messages if m["type"] == "http.response.start")
    assert start["status"] == 408
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    assert b"did not arrive" in body
