"""Export and import: a versioned, stable, streamed document; byte-identical round trips;
all-or-nothing imports with a report per kind; the change feed after a sequence of writes."""

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from api import migrate
from api.app import create_app
from api.cli import app as cli
from api.db import make_engine
from api.settings import Settings
from seed.load import seed_database
from tests.databases import fresh_database
from tests.helpers import assert_problem

KEY = "curator:s3cret-curator-key"
AUTH = {"Authorization": "Bearer s3cret-curator-key"}
AS_JSON = {"Content-Type": "application/json", **AUTH}
DATA = Path(__file__).parent / "data"
runner = CliRunner()


def _client(url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, api_keys=KEY, cache="off")))


@pytest.fixture(scope="module")
def source(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A seeded database with a further deck and an API write on top (audit fields set)."""
    with fresh_database(dialect, tmp_path_factory.mktemp("export")) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        seed_database(engine)
        engine.dispose()
        with _client(url) as client:
            files = {
                "deck": ("chapter-9.md", (DATA / "chapter-9-fictional.md").read_bytes()),
                "overlay": ("overlay.yaml", (DATA / "chapter-9-overlay.yaml").read_bytes()),
            }
            assert client.post("/decks", files=files, headers=AUTH).status_code == 201
            lab = {"slug": "exported-lab", "name": "Exported  Lab", "country": "fr"}
            assert client.post("/labs", json=lab, headers=AUTH).status_code == 201
            yield client


@pytest.fixture
def empty(dialect: str, tmp_path: Path) -> Iterator[tuple[str, TestClient]]:
    """A migrated, empty database of the same dialect, with a write key."""
    with fresh_database(dialect, tmp_path) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        with _client(url) as client:
            yield url, client


def version(client: TestClient) -> int:
    return int(client.get("/health").json()["data_version"])


def test_export_is_a_versioned_document_in_a_stable_order(source: TestClient) -> None:
    response = source.get("/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    document = orjson.loads(response.content)
    assert list(document)[:3] == ["format", "version", "data_version"]
    assert document["format"] == "paperkg-export" and document["version"] == 1
    assert document["data_version"] == version(source)
    assert list(document)[3:] == [
        "decks", "labs", "papers", "models", "techniques", "links", "sources", "mentions",
    ]  # fmt: skip
    for name in ("decks", "labs", "papers", "models", "techniques"):
        slugs = [record["slug"] for record in document[name]]
        assert slugs == sorted(slugs, key=str.encode) and len(set(slugs)) == len(slugs)
    links = [(link["model"], link["technique"]) for link in document["links"]]
    assert links == sorted(links)
    assert not any("id" in record for name in ("labs", "models") for record in document[name])
    v2 = next(m for m in document["models"] if m["slug"] == "deepseek-v2")
    assert v2["lab"] == "deepseek" and v2["paper"] == "arxiv-2405.04434"
    assert v2["release_date"] == "2024-05-06" and v2["created_at"].endswith("Z")
    lab = next(lab for lab in document["labs"] if lab["slug"] == "exported-lab")
    assert lab["created_by"] == "curator" and lab["country"] == "FR"
    slide = document["decks"][0]["slides"][8]
    assert slide["number"] == 9 and slide["title"].startswith("DeepSeek")
    quote = next(s for s in document["sources"] if s["kind"] == "slide")
    assert {"deck", "slide", "subject_kind", "subject"} <= set(quote)
    assert source.get("/export").content == response.content  # the same state, the same bytes


def test_round_trip_is_byte_identical_and_a_second_import_changes_nothing(
    source: TestClient, empty: tuple[str, TestClient]
) -> None:
    exported = source.get("/export").content
    _, target = empty
    response = target.post("/import", content=exported, headers=AS_JSON)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["changed"] and report["data_version"] == version(source)
    assert report["models"] == {"created": 16, "updated": 0, "unchanged": 0}
    assert report["decks"]["created"] == 2 and report["slides"]["created"] == 19
    assert target.get("/export").content == exported
    again = target.post("/import", content=exported, headers=AS_JSON).json()
    assert not again["changed"] and again["data_version"] == report["data_version"]
    assert again["sources"]["created"] == 0 and again["mentions"]["unchanged"] > 0
    assert target.get("/export").content == exported
    # The restored graph answers like the original (sources may be listed in another order).
    for path in ("/models/deepseek-v2", "/introductions", "/search?q=aurora"):
        assert _unordered(target.get(path).json()) == _unordered(source.get(path).json()), path


def _unordered(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unordered(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_unordered(v) for v in value), key=orjson.dumps)
    return value


def _document(source: TestClient) -> dict[str, Any]:
    return dict(orjson.loads(source.get("/export").content))


def test_a_bad_record_in_the_middle_changes_nothing(source: TestClient) -> None:
    document = _document(source)
    before, at = source.get("/export").content, version(source)
    document["labs"].append({"slug": "half-imported", "name": "Half imported"})
    bad = copy.deepcopy(document["models"][5])
    bad.update(slug="model-of-nowhere", lab="nope")
    document["models"].insert(6, bad)
    body = assert_problem(source.post("/import", json=document, headers=AUTH), 422)
    assert body["detail"] == ("models[6] (slug 'model-of-nowhere'): lab: lab 'nope' does not exist")
    assert body["record"] == "models[6] (slug 'model-of-nowhere')"
    document["models"][6] = bad | {"lab": None, "release_date": "2024-13"}
    body = assert_problem(source.post("/import", json=document, headers=AUTH), 422)
    assert body["detail"].startswith("models[6] (slug 'model-of-nowhere'): release_date")
    assert source.get("/export").content == before and version(source) == at
    assert source.get("/labs/half-imported").status_code == 404


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"format": "csv"}, "format: expected 'paperkg-export'"),
        ({"version": 2}, "version: expected 1"),
        ({"extra": []}, "extra: not a part of the format"),
        ({"labs": {}}, "labs: expected a list"),
        ({"data_version": -1}, "data_version: expected a whole number"),
        ({"labs": [{"slug": "Bad Slug", "name": "x"}]}, "labs[0] (slug 'Bad Slug'): slug"),
        ({"labs": [{"slug": "a", "name": "A"}, {"slug": "a", "name": "B"}]},
         "labs[1] (slug 'a'): a duplicate of labs[0]"),
        ({"papers": [{"slug": "p-x", "title": "X", "arxiv_id": "2405.04434"}]},
         "papers[0] (slug 'p-x'): arXiv 2405.04434 is paper 'arxiv-2405.04434' already"),
        ({"models": [{"slug": "llama", "name": "LLaMA", "derived_from": "llama-2"}]},
         "models[0] (slug 'llama'): derived from: this would make a cycle"),
        ({"links": [{"model": "llama", "technique": "warp-drive"}]},
         "links[0] (model 'llama', technique 'warp-drive'): technique 'warp-drive' does not"),
        ({"mentions": [{"deck": "4-open-source-llm-milestones", "slide": 99, "kind": "lab",
                        "slug": "meta"}]},
         "mentions[0] (slug 'meta'): deck '4-open-source-llm-milestones' has no slide 99"),
    ],
)  # fmt: skip
def test_bad_documents_are_422_naming_the_first_bad_record(
    source: TestClient, change: dict[str, Any], detail: str
) -> None:
    document = {"format": "paperkg-export", "version": 1} | change
    body = assert_problem(source.post("/import", json=document, headers=AUTH), 422)
    assert body["detail"].startswith(detail), body["detail"]


def test_an_import_updates_reports_and_feeds_the_change_feed(source: TestClient) -> None:
    document = _document(source)
    since = version(source)
    model = next(m for m in document["models"] if m["slug"] == "aurora-moe")
    model["summary"] = "A sparse model that keeps latent attention."
    document["labs"].append({"slug": "imported-lab", "name": "Imported Lab", "kind": "academic"})
    document["links"].append({"model": "aurora-moe", "technique": "echo-attention"})
    report = source.post("/import", json=document, headers=AUTH).json()
    assert report["data_version"] == since + 1
    assert report["labs"] == {"created": 1, "updated": 0, "unchanged": len(document["labs"]) - 1}
    assert report["models"]["updated"] == 1 and report["links"]["created"] == 1
    changes = source.get(f"/changes?since={since}").json()["items"]
    assert [(c["kind"], c["slug"], c["operation"], c["key"]) for c in changes] == [
        ("lab", "imported-lab", "created", "curator"),
        ("model", "aurora-moe", "updated", "curator"),
    ]
    item = source.get("/models/aurora-moe").json()
    assert item["summary"] == model["summary"]
    assert "echo-attention" in {t["slug"] for t in item["techniques"]}
    found = source.get("/search?q=imported lab&kind=lab").json()["items"]
    assert found and found[0]["slug"] == "imported-lab"


def test_import_needs_a_write_key(source: TestClient) -> None:
    assert_problem(source.post("/import", json={"format": "paperkg-export"}), 401)


def test_the_change_feed_after_a_sequence_of_writes(source: TestClient) -> None:
    since = version(source)
    lab = {"slug": "feed-lab", "name": "Feed Lab"}
    assert source.post("/labs", json=lab, headers=AUTH).status_code == 201
    patch = {"Content-Type": "application/merge-patch+json", **AUTH}
    assert source.patch("/labs/feed-lab", content=b'{"country": "DE"}', headers=patch).is_success
    assert source.delete("/labs/feed-lab", headers=AUTH).status_code == 204
    changes = source.get(f"/changes?since={since}").json()["items"]
    assert [(c["version"] - since, c["slug"], c["operation"]) for c in changes] == [
        (1, "feed-lab", "created"), (2, "feed-lab", "updated"), (3, "feed-lab", "deleted"),
    ]  # fmt: skip


def test_cli_export_then_import_into_an_empty_database(
    source: TestClient, empty: tuple[str, TestClient], tmp_path: Path
) -> None:
    url, target = empty
    source_url = source.app.state.settings.database_url  # type: ignore[attr-defined]
    file = tmp_path / "graph.json"
    exported = runner.invoke(cli, ["export", str(file), "--database-url", source_url])
    assert exported.exit_code == 0, exported.output
    assert file.read_bytes() == source.get("/export").content
    imported = runner.invoke(cli, ["import", str(file), "--database-url", url])
    assert imported.exit_code == 0, imported.output
    assert "created" in imported.output and "models" in imported.output
    assert target.get("/export").content == file.read_bytes()
    again = runner.invoke(cli, ["import", str(file), "--database-url", url])
    assert "Nothing to change" in again.output
    broken = tmp_path / "broken.json"
    document = orjson.loads(file.read_bytes())
    document["papers"][3]["lab"] = "nope"
    broken.write_bytes(orjson.dumps(document))
    failed = runner.invoke(cli, ["import", str(broken), "--database-url", url])
    assert failed.exit_code == 1
    assert "nothing was changed" in failed.output and "papers[3]" in failed.output
