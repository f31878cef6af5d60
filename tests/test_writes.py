"""Writes: create, replace, patch, delete, links; validation, conflicts, keys, ETags, changes."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from api import migrate
from api.app import create_app
from api.auth import create_key, revoke_key
from api.db import make_engine
from api.settings import Settings
from tests.databases import fresh_database, seeded_database
from tests.helpers import assert_problem

KEY = "curator:s3cret-curator-key"
AUTH = {"Authorization": "Bearer s3cret-curator-key"}


@pytest.fixture(scope="module")
def writer(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A seeded database of its own, with a write key; tests use slugs of their own."""
    with seeded_database(dialect, tmp_path_factory.mktemp("writes")) as url:
        with TestClient(create_app(Settings(database_url=url, api_keys=KEY))) as client:
            yield client


def version(client: TestClient) -> int:
    return int(client.get("/health").json()["data_version"])


LLAMA_4 = {
    "slug": "llama-4",
    "name": "Llama 4",
    "lab": "meta",
    "paper": "2302.13971",
    "derived_from": "llama-3-1",
    "release_date": "2025-04-05",
    "parameters": 400_000_000_000,
    "active_parameters": 17_000_000_000,
}


def test_create_returns_201_location_etag_and_the_item(writer: TestClient) -> None:
    before = version(writer)
    response = writer.post("/models", json=LLAMA_4, headers=AUTH)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/models/llama-4"
    item = response.json()
    assert item["lab"]["slug"] == "meta" and item["paper"]["arxiv_id"] == "2302.13971"
    assert item["derived_from"] == {
        "slug": "llama-3-1", "name": "Llama 3.1", "url": "/models/llama-3-1",
        "derivation": "successor",
    }  # fmt: skip
    assert item["release_date"] == "2025-04-05"
    assert response.headers["etag"] == writer.get("/models/llama-4").headers["etag"]
    assert version(writer) == before + 1
    assert "llama-4" in [m["slug"] for m in writer.get("/models?lab=meta").json()["items"]]
    lineage = writer.get("/models/llama-4/lineage").json()
    assert [a["slug"] for a in lineage["ancestors"]][:2] == ["llama-3-1", "llama-3"]
    found = writer.get("/search?q=llama 4&kind=model").json()["items"]
    assert found and found[0]["slug"] == "llama-4"


def test_duplicate_slug_and_arxiv_id_are_409(writer: TestClient) -> None:
    assert_problem(writer.post("/labs", json={"slug": "meta", "name": "Meta"}, headers=AUTH), 409)
    paper = {"slug": "llama-2-again", "title": "Llama 2", "arxiv_id": "2307.09288"}
    body = assert_problem(writer.post("/papers", json=paper, headers=AUTH), 409)
    assert "arxiv-2307.09288" in body["detail"]


@pytest.mark.parametrize(
    ("patch", "param"),
    [
        ({"slug": "Not A Slug"}, "slug"),
        ({"lab": "no-such-lab"}, "lab"),
        ({"paper": "9999.99999"}, "paper"),
        ({"release_date": "2025-13-01"}, "release_date"),
        ({"parameters": -5}, "parameters"),
        ({"parameters": 10, "active_parameters": 20}, "active_parameters"),
        ({"derivation": "cloned"}, "derivation"),
        ({"derived_from": "mistral-9"}, "derived_from"),
        ({"open_weights": "sometimes"}, "open_weights"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_validation_names_the_field_and_changes_nothing(
    writer: TestClient, patch: dict[str, Any], param: str
) -> None:
    before = version(writer)
    body = {"slug": "bad-model", "name": "Bad"} | patch
    assert_problem(writer.post("/models", json=body, headers=AUTH), 422, param)
    assert version(writer) == before
    assert writer.get("/models/bad-model").status_code == 404


def test_read_only_fields_are_ignored_so_an_item_can_be_put_back(writer: TestClient) -> None:
    item = writer.get("/models/mistral-7b").json()
    item["summary"] = "A 7B model that uses sliding-window and grouped-query attention."
    response = writer.put("/models/mistral-7b", json=item, headers=AUTH)
    assert response.status_code == 200, response.text
    updated = writer.get("/models/mistral-7b").json()
    assert updated["summary"].startswith("A 7B model")
    assert updated["derived_from"]["slug"] == "llama-2"
    assert updated["parameters"] == item["parameters"]
    assert updated["techniques"] == item["techniques"]  # links untouched by an item write


def test_patch_is_a_json_merge_patch(writer: TestClient) -> None:
    writer.post(
        "/labs", json={"slug": "patch-lab", "name": "Patch Lab", "country": "fr"}, headers=AUTH
    )
    response = writer.patch(
        "/labs/patch-lab",
        content=b'{"homepage": "https://example.org", "country": null}',
        headers=AUTH | {"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    lab = response.json()
    assert lab["homepage"] == "https://example.org" and lab["country"] is None
    assert lab["name"] == "Patch Lab"


def test_if_match_guards_against_lost_updates(writer: TestClient) -> None:
    etag = writer.get("/techniques/ghost-attention").headers["etag"]
    first = writer.patch(
        "/techniques/ghost-attention", json={"description": "Keeps a system prompt in force."},
        headers=AUTH | {"If-Match": etag},
    )  # fmt: skip
    assert first.status_code == 200, first.text
    before = version(writer)
    stale = writer.patch(
        "/techniques/ghost-attention", json={"description": "Overwritten."},
        headers=AUTH | {"If-Match": etag},
    )  # fmt: skip
    assert_problem(stale, 412)
    assert version(writer) == before
    current = writer.get("/techniques/ghost-attention")
    assert current.json()["description"] == "Keeps a system prompt in force."
    assert (
        writer.get(
            "/techniques/ghost-attention", headers={"If-None-Match": current.headers["etag"]}
        ).status_code
        == 304
    )


def test_lineage_cycles_and_self_lineage_are_refused(writer: TestClient) -> None:
    llama = writer.get("/models/llama").json()
    llama["derived_from"] = "llama-3"
    assert_problem(writer.put("/models/llama", json=llama, headers=AUTH), 422, "derived_from")
    llama["derived_from"] = "llama"
    assert_problem(writer.put("/models/llama", json=llama, headers=AUTH), 422, "derived_from")
    assert writer.get("/models/llama").json()["derived_from"] is None


def test_delete_of_a_referenced_entity_is_409_naming_referrers(writer: TestClient) -> None:
    body = assert_problem(writer.delete("/labs/mistral-ai", headers=AUTH), 409)
    assert {"kind": "model", "slug": "mixtral-8x7b", "relation": "developed_by"} in body[
        "referrers"
    ]
    assert "mixtral-8x7b" in body["detail"]
    assert writer.get("/labs/mistral-ai").status_code == 200


def test_cascade_detaches_referrers_and_leaves_no_orphans(writer: TestClient) -> None:
    writer.post("/labs", json={"slug": "doomed-lab", "name": "Doomed"}, headers=AUTH)
    writer.post(
        "/models", json={"slug": "doomed-model", "name": "D", "lab": "doomed-lab"}, headers=AUTH
    )
    assert writer.delete("/labs/doomed-lab?cascade=true", headers=AUTH).status_code == 204
    assert writer.get("/labs/doomed-lab").status_code == 404
    assert writer.get("/models/doomed-model").json()["lab"] is None
    techniques = writer.get("/techniques/rmsnorm").json()
    assert techniques["adopters_count"] > 0
    assert_problem(writer.delete("/techniques/rmsnorm", headers=AUTH), 409)


def test_unreferenced_delete_is_204_and_recorded(writer: TestClient) -> None:
    writer.post("/papers", json={"slug": "short-lived", "title": "Short"}, headers=AUTH)
    since = version(writer)
    assert writer.delete("/papers/short-lived", headers=AUTH).status_code == 204
    assert writer.get("/papers/short-lived").status_code == 404
    changes = writer.get(f"/changes?since={since}").json()["items"]
    assert changes == [
        {"version": since + 1, "kind": "paper", "slug": "short-lived", "operation": "deleted",
         "at": changes[0]["at"], "key": "curator", "url": None}
    ]  # fmt: skip


def test_links_put_and_delete_with_sources(writer: TestClient) -> None:
    body = {
        "relation": "uses",
        "evidence": "Qwen3 uses RoPE with YaRN scaling.",
        "sources": [{"reference": "arXiv:2505.09388", "note": "Technical report, section 2"}],
    }
    response = writer.put("/models/qwen3/techniques/multi-query-attention", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    link = response.json()
    assert link["role"] == "uses" and link["sources"][0]["source"] == "arXiv:2505.09388"
    roles = {t["slug"]: t["role"] for t in writer.get("/models/qwen3").json()["techniques"]}
    assert roles["multi-query-attention"] == "uses"
    assert (
        writer.delete("/models/qwen3/techniques/multi-query-attention", headers=AUTH).status_code
        == 204
    )
    roles = {t["slug"] for t in writer.get("/models/qwen3").json()["techniques"]}
    assert "multi-query-attention" not in roles
    missing = writer.delete("/models/qwen3/techniques/multi-query-attention", headers=AUTH)
    assert_problem(missing, 404)


def test_change_feed_lists_writes_in_order(writer: TestClient) -> None:
    since = version(writer)
    writer.post("/labs", json={"slug": "feed-lab", "name": "Feed"}, headers=AUTH)
    writer.patch("/labs/feed-lab", json={"country": "de"}, headers=AUTH)
    writer.delete("/labs/feed-lab", headers=AUTH)
    page = writer.get(f"/changes?since={since}&limit=2").json()
    rest = writer.get(page["next"]).json()
    operations = [(c["slug"], c["operation"]) for c in page["items"] + rest["items"]]
    assert operations == [("feed-lab", "created"), ("feed-lab", "updated"), ("feed-lab", "deleted")]
    assert [c["version"] for c in page["items"] + rest["items"]] == [
        since + 1,
        since + 2,
        since + 3,
    ]


def test_audit_columns_record_the_key(writer: TestClient, dialect: str) -> None:
    writer.post("/labs", json={"slug": "audited", "name": "Audited"}, headers=AUTH)
    engine = writer.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT created_by, updated_by FROM lab WHERE slug = 'audited'")
        ).one()
    assert tuple(row) == ("curator", "curator")


WRITES = [
    ("post", "/labs", {"slug": "x-lab", "name": "X"}),
    ("put", "/labs/meta", {"slug": "meta", "name": "Meta"}),
    ("patch", "/models/llama", {"summary": "x"}),
    ("delete", "/papers/arxiv-1611.09940", None),
    ("put", "/models/llama/techniques/rope", {"relation": "uses"}),
    ("delete", "/models/llama/techniques/rope", None),
]


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
def test_no_write_without_a_valid_key(
    writer: TestClient, method: str, url: str, body: dict[str, Any] | None
) -> None:
    before = version(writer)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        response = writer.request(method, url, json=body, headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "s3cret" not in response.text
    assert version(writer) == before


def test_revoked_keys_stop_working(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    with fresh_database(dialect, tmp_path_factory.mktemp("keys")) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        with engine.begin() as connection:
            from sqlmodel import Session

            with Session(bind=connection) as session:
                secret = create_key(session, "temp")
        with TestClient(create_app(Settings(database_url=url))) as client:
            headers = {"Authorization": f"Bearer {secret}"}
            assert (
                client.post("/labs", json={"slug": "a", "name": "A"}, headers=headers).status_code
                == 201
            )
            with engine.begin() as connection, Session(bind=connection) as session:
                revoke_key(session, "temp")
            refused = client.post("/labs", json={"slug": "b", "name": "B"}, headers=headers)
            assert_problem(refused, 403)  # the only key is revoked: the service is read-only
        engine.dispose()


def test_read_only_service_says_so(client: TestClient) -> None:
    body = assert_problem(client.post("/labs", json={"slug": "a", "name": "A"}), 403)
    assert "read-only" in body["detail"]
