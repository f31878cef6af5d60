"""The API's promises across every endpoint: documented, never a 500, few statements per page."""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, select
from starlette.testclient import TestClient

from api import migrate
from api.app import create_app
from api.db import make_engine
from api.settings import Settings
from models import tables as t
from models.base import utc_now
from seed.load import seed_database
from tests.databases import fresh_database

HOSTILE = [
    "'; DROP TABLE model; --",
    '" OR 1=1 --',
    "NEAR(",
    "x" * 2000,
    "-1",
    "99999999999999999999999",
    "🦙 نموذج",
    "%00",
    "a,b,,c",
    "",
]
SAMPLE_PATH_VALUES = {
    "kind": "model",
    "slug": "deepseek-v2",
    "key": "2405.04434",
    "number": "3",
    "deck": "4-open-source-llm-milestones",
}


def get_operations(client: TestClient) -> Iterator[tuple[str, dict[str, Any]]]:
    schema = client.get("/openapi.json").json()
    for path, methods in schema["paths"].items():
        if "get" in methods:
            yield path, methods["get"]


def concrete(path: str) -> str:
    url = path
    for name, value in SAMPLE_PATH_VALUES.items():
        url = url.replace("{" + name + "}", value)
    if "/labs/" in url:
        url = url.replace("deepseek-v2", "deepseek")
    if "/techniques/" in url:
        url = url.replace("deepseek-v2", "grouped-query-attention")
    return url


def test_every_operation_is_documented(client: TestClient) -> None:
    for path, operation in get_operations(client):
        assert operation.get("summary"), path
        assert operation.get("description"), path
        assert operation.get("tags"), path
        parametrized = operation.get("parameters") or path.count("{")
        if parametrized:
            assert "422" in operation["responses"], path
            problem = operation["responses"]["422"]["content"]
            assert "application/problem+json" in problem, path
        if "{" in path:
            assert "404" in operation["responses"], path


def test_docs_render_without_the_internet(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "https://" not in html and "http://" not in html, page
    assert client.get("/static/docs/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/docs/redoc.standalone.js").status_code == 200


def test_no_query_string_makes_a_500(client: TestClient) -> None:
    for path, operation in get_operations(client):
        url = concrete(path)
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        for name in names:
            for value in HOSTILE:
                response = client.get(url, params={name: value}, follow_redirects=False)
                assert response.status_code < 500, (url, name, value, response.text)
                if response.status_code >= 400:
                    assert response.headers["content-type"].startswith("application/problem+json")
        required = any(
            p.get("required") and p["in"] == "query" for p in operation.get("parameters", [])
        )
        assert client.get(url, follow_redirects=False).status_code == (422 if required else 200), (
            url
        )
    assert client.get("/models/deepseek-v2").json()["slug"] == "deepseek-v2"


# --- statements per response ---------------------------------------------------------------------

MAX_STATEMENTS = 10


@pytest.fixture(scope="module")
def big_client(
    dialect: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Engine]]:
    """A seeded graph plus 600 generated models, each with links and sources (read-only)."""
    with fresh_database(dialect, tmp_path_factory.mktemp("big")) as url:
        yield from _big_graph(url)


def _big_graph(empty_url: str) -> Iterator[tuple[TestClient, Engine]]:
    engine = make_engine(empty_url)
    migrate.upgrade(engine)
    seed_database(engine)
    with engine.begin() as connection:
        lab_ids = list(connection.execute(select(t.lab.c.id)).scalars())
        paper_ids = list(connection.execute(select(t.paper.c.id)).scalars())
        technique_ids = list(connection.execute(select(t.technique.c.id)).scalars())
        now = utc_now()
        rows = [
            {"slug": f"generated-{n:04d}", "name": f"Generated {n}", "family": "generated",
             "release_date": date(2020, 1, 1) + timedelta(days=n), "date_precision": "day",
             "open_weights": True, "parameters": n * 10**9, "lab_id": lab_ids[n % len(lab_ids)],
             "paper_id": paper_ids[n % len(paper_ids)], "created_at": now, "updated_at": now}
            for n in range(600)
        ]  # fmt: skip
        connection.execute(insert(t.model), rows)
        ids = list(
            connection.execute(
                select(t.model.c.id).where(t.model.c.family == "generated").order_by(t.model.c.id)
            ).scalars()
        )
        links = [
            {"model_id": m, "technique_id": technique_ids[(m + k) % len(technique_ids)],
             "relation": "uses", "created_at": now, "updated_at": now}
            for m in ids for k in range(3)
        ]  # fmt: skip
        connection.execute(insert(t.model_technique), links)
        sources = [
            {"subject_kind": "model", "subject_id": m, "predicate": "entity", "kind": "reference",
             "reference": "generated", "origin": "test", "created_at": now}
            for m in ids
        ]  # fmt: skip
        connection.execute(insert(t.source), sources)
    engine.dispose()
    with TestClient(create_app(Settings(database_url=empty_url))) as client:
        yield client, client.app.state.engine  # type: ignore[attr-defined]


BIG_PAGES = [
    "/models?limit=500&include=lab,paper,techniques,derived_from,sources",
    "/models?limit=500&technique=rope&lab=meta,deepseek,openai,mistral-ai&sort=-parameters",
    "/labs?include=models,papers,sources",
    "/papers?limit=500&include=lab,models,techniques",
    "/techniques?limit=500&include=proposed_in,refines,models,sources",
    "/techniques/rope/models?limit=500&include=lab,techniques",
    "/labs/meta/models?limit=500&include=techniques",
    "/models?limit=500&format=csv&include=techniques",
    "/models?group_by=lab",
    "/models/deepseek-v3",
    "/techniques/grouped-query-attention",
    "/stats",
]


@pytest.mark.parametrize("url", BIG_PAGES)
def test_a_500_row_page_runs_a_fixed_number_of_statements(
    big_client: tuple[TestClient, Engine], url: str
) -> None:
    client, engine = big_client
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.text
    if "format=" not in url and url.startswith(("/models?limit", "/techniques/rope", "/labs/meta")):
        assert len(response.json()["items"]) >= 50
    assert len(statements) <= MAX_STATEMENTS, (url, len(statements), statements)
