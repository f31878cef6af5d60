"""Security: headers on every answer, CSP that lets the docs run, CORS, keys, rate limits."""

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlmodel import Session
from starlette.testclient import TestClient

from api import auth
from api.app import create_app
from api.db import make_engine
from api.settings import Settings
from tests.databases import seeded_database
from tests.helpers import assert_problem
from tests.test_writes import WRITES

KEY = "curator:s3cret-security-key"
AUTH = {"Authorization": "Bearer s3cret-security-key"}


@pytest.fixture(scope="module")
def url(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A seeded database of its own, with a stored key that has been revoked."""
    with seeded_database(dialect, tmp_path_factory.mktemp("security")) as database_url:
        engine = make_engine(database_url)
        with engine.begin() as connection, Session(bind=connection) as session:
            secret = auth.create_key(session, "former")
            auth.revoke_key(session, "former")
        engine.dispose()
        yield database_url + "#" + secret  # the revoked secret rides along, parsed below


@contextmanager
def serving(url: str, **settings: Any) -> Iterator[TestClient]:
    database_url = url.partition("#")[0]
    app = create_app(Settings(database_url=database_url, api_keys=KEY, **settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def revoked_secret(url: str) -> str:
    return url.partition("#")[2]


def assert_secured(response: Any) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", response.url
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "server" not in headers


def test_every_kind_of_answer_carries_the_headers(url: str) -> None:
    with serving(url) as client:
        answers = [
            client.get("/health"),
            client.get("/models/llama-2"),
            client.get("/models/llama-2", headers={"Accept-Encoding": "gzip"}),
            client.get("/models/nope"),
            client.get("/models?limit=-1"),
            client.delete("/health"),
            client.post("/labs", content=b"x" * 1_000_001, headers=AUTH),
            client.post("/labs", json={}, headers={}),
            client.get("/openapi.json"),
            client.get("/static/docs/swagger-ui-bundle.js"),
            client.head("/models"),
        ]
        answers.append(client.get("/models", headers={"If-None-Match": answers[1].headers["etag"]}))
        for response in answers:
            assert_secured(response)
        assert [r.status_code for r in answers[3:8]] == [404, 422, 405, 413, 401]
        json_policy = answers[0].headers["content-security-policy"]
        assert json_policy.startswith("default-src 'none'")


def inline_scripts(html: str) -> list[str]:
    return re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/explore"])
def test_html_pages_get_a_self_only_csp_that_lets_them_run(url: str, page: str) -> None:
    with serving(url) as client:
        for encoding in ("identity", "gzip"):
            response = client.get(page, headers={"Accept-Encoding": encoding})
            assert response.status_code == 200
            assert_secured(response)
            policy = response.headers["content-security-policy"]
            directives = dict(d.strip().partition(" ")[::2] for d in policy.split(";"))
            assert directives["default-src"] == "'self'"
            assert "'unsafe-inline'" not in directives["script-src"]
            assert "http" not in policy and "*" not in policy
            for script in inline_scripts(response.text):  # each inline script, by its hash
                digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
                assert f"'sha256-{digest}'" in directives["script-src"]
            for source in re.findall(r'(?:src|href)="([^"]+)"', response.text):
                assert source.startswith(("/", "#")), source  # its own files: 'self'
            if page == "/explore":  # built with DOM APIs only: no inline style either
                assert "'unsafe-inline'" not in policy


def test_cors_answers_only_configured_origins(url: str) -> None:
    allowed = "https://explorer.example"
    with serving(url, cors_origins=allowed) as client:
        yes = client.get("/health", headers={"Origin": allowed})
        assert yes.headers["access-control-allow-origin"] == allowed
        no = client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in no.headers
        preflight = client.options(
            "/labs",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in preflight.headers
    with serving(url) as client:
        assert (
            "access-control-allow-origin"
            not in client.get("/health", headers={"Origin": allowed}).headers
        )


def test_a_failing_database_shows_no_trace_or_sql(tmp_path: Any) -> None:
    """An unmigrated database makes every query fail: the client sees a bare 500 problem."""
    with serving(f"sqlite:///{tmp_path / 'empty.db'}") as client:
        response = client.get("/models")
        body = assert_problem(response, 500)
        assert body["detail"] == "The server failed to answer."
        for leak in ("SELECT", "sqlite", "no such table", "File ", "line "):
            assert leak not in response.text
        assert_secured(response)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_revoked_key_cannot_write(
    url: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    with serving(url) as client:
        before = client.get("/health").json()["data_version"]
        headers = {"Authorization": f"Bearer {revoked_secret(url)}"}
        response = client.request(method, path, json=body, headers=headers)
        assert_problem(response, 401)
        assert client.get("/health").json()["data_version"] == before


def test_keys_are_stored_hashed_and_compared_in_constant_time(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(url.partition("#")[0])
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT * FROM api_key").all()
    engine.dispose()
    assert rows and all(revoked_secret(url) not in str(tuple(row)) for row in rows)
    calls: list[str] = []
    compare = hmac.compare_digest

    def counting(a: str, b: str) -> bool:
        calls.append(a)
        return compare(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", counting)
    with pytest.raises(auth.Unauthorized):
        auth.authenticate(_NoStoredKeys(), "a:one,b:two,c:three", "Bearer nope")
    assert len(calls) == 3  # every key is compared, whatever matches first
    calls.clear()
    assert auth.authenticate(_NoStoredKeys(), "a:one,b:two,c:three", "Bearer one").name == "a"
    assert len(calls) == 3


class _NoStoredKeys:
    def execute(self, *_: Any) -> list[Any]:
        return []


def test_keys_never_reach_the_logs(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with serving(url) as client:
        client.post("/labs", json={"slug": "logged-lab", "name": "L"}, headers=AUTH)
        client.post("/labs", json={"slug": "x"}, headers={"Authorization": "Bearer wrong-s3cret"})
        client.post("/labs", json={"slug": "y", "name": "Y"}, headers=AUTH | {"X": "\x01"})
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "s3cret" not in logged


def test_writes_are_rate_limited_per_key(url: str) -> None:
    with serving(url, rate_limit_writes="3/minute") as client:
        bad = {"slug": "Not A Slug"}  # refused (422): these tests change nothing
        for _ in range(3):
            assert client.post("/labs", json=bad, headers=AUTH).status_code == 422
        limited = client.post("/labs", json=bad, headers=AUTH)
        assert_problem(limited, 429)
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert_secured(limited)
        other = client.post("/labs", json=bad, headers={"Authorization": "Bearer other"})
        assert other.status_code == 401  # another key has its own bucket
        assert client.get("/models/llama").status_code == 200  # reads are not writes
    with serving(url, rate_limit_writes="0") as client:
        for _ in range(10):
            assert client.post("/labs", json=bad, headers=AUTH).status_code == 422


def test_expensive_reads_are_rate_limited_per_client(url: str) -> None:
    with serving(url, rate_limit_expensive="2/minute") as client:
        app: Any = client.app
        if not any(getattr(r, "path", "") == "/graph" for r in app.routes):
            app.add_api_route("/graph", lambda: {"nodes": []})  # until the graph lands
        assert client.get("/graph/none/such/thing").status_code == 404  # not counted
        assert [client.get("/graph").status_code for _ in range(2)] == [200, 200]
        limited = client.get("/graph")
        assert_problem(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1
        assert client.get("/models").status_code == 200  # cheap reads are not limited
