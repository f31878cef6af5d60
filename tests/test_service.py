"""Health and stats."""

from starlette.testclient import TestClient


def test_health_reports_version_and_revision(client: TestClient, dialect: str) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == dialect
    assert body["data_version"] == 1
    assert body["schema_revision"] == body["schema_head"]
    assert response.headers["cache-control"] == "no-store"


def test_stats_counts_entities_and_relations(client: TestClient) -> None:
    stats = client.get("/stats").json()
    assert stats["entities"]["models"] == 14
    assert stats["entities"]["labs"] == 6
    assert stats["relations"]["introduced"] == 5
    assert stats["relations"]["developed_by"] == 14


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    get = client.get("/models/llama")
    head = client.head("/models/llama")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == get.headers["content-length"]


def test_index_links_everything(client: TestClient) -> None:
    index = client.get("/").json()
    assert index["explorer"] == "/explore"
    for url in [*index["collections"].values(), index["llms_txt"], index["health"]]:
        assert client.get(url).status_code == 200, url
