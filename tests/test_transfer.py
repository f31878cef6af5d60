"""Export and import: a versioned, stable, streamed document; byte-identical round trips;
all-or-nothing imports with a report per kind; the change feed after a sequence of writes."""

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlmodel import Session
from starlette.testclient import TestClient
from typer.testing import CliRunner

from api import migrate
from api.app import create_app
from api.cli import app as cli
from api.db import make_engine
from api.queries import search as search_queries
from api.queries import transfer_check, transfer_decks
from api.settings import Settings
from tests.databases import fresh_database, seeded_database
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
    with seeded_database(dialect, tmp_path_factory.mktemp("export")) as url:
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


def test_timestamps_with_an_offset_are_kept_as_the_same_instant(
    source: TestClient, empty: tuple[str, TestClient]
) -> None:
    document = _document(source)
    lab = next(lab for lab in document["labs"] if lab["slug"] == "exported-lab")
    lab["created_at"] = "2024-05-06T12:00:00+02:00"
    _, target = empty
    response = target.post("/import", content=orjson.dumps(document), headers=AS_JSON)
    assert response.status_code == 200, response.text
    restored = _document(target)
    lab = next(lab for lab in restored["labs"] if lab["slug"] == "exported-lab")
    assert lab["created_at"] == "2024-05-06T10:00:00.000000Z"


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
        # Values of the wrong type where keys are expected: a 422, never a crash.
        ({"labs": [{"slug": ["x"], "name": "X"}]}, "labs[0]"),
        ({"models": [{"slug": "m-x", "name": "X", "derived_from": {"a": 1}}]}, "models[0]"),
        ({"decks": [{"slug": ["d"], "slides": [{"number": [1]}]}]}, "decks[0]"),
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


def _export_file(source: TestClient, tmp_path: Path) -> Path:
    file = tmp_path / "graph.json"
    file.write_bytes(source.get("/export").content)
    return file


def test_a_file_in_export_layout_is_streamed_and_any_other_layout_is_read_whole(
    source: TestClient, tmp_path: Path
) -> None:
    before = source.get("/export").content
    file = _export_file(source, tmp_path)
    streamed = transfer_check.read_file(file)
    assert isinstance(streamed, transfer_check.DocumentFile)
    assert set(streamed.streamed) == set(transfer_check.LISTS[1:])
    document = orjson.loads(file.read_bytes())
    assert streamed.data_version == document["data_version"] and streamed.nul_free
    assert streamed.size == sum(len(document[name]) for name in transfer_check.LISTS)
    for name in transfer_check.LISTS:
        assert list(streamed.records(name)) == document[name], name
    pretty = tmp_path / "pretty.json"
    pretty.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    whole = transfer_check.read_file(pretty)
    assert isinstance(whole, transfer_check.InMemory)
    assert [list(whole.records(n)) for n in transfer_check.LISTS] == [
        list(streamed.records(n)) for n in transfer_check.LISTS
    ]
    # A quote holding `}, {` is still one record a line: streamed.
    lines = file.read_bytes().split(b"\n")
    quoted = [line.replace(b'"quote":"', b'"quote":"}, {', 1) for line in lines]
    assert quoted != lines
    (tmp_path / "quoted.json").write_bytes(b"\n".join(quoted))
    assert isinstance(
        transfer_check.read_file(tmp_path / "quoted.json"), transfer_check.DocumentFile
    )
    # Two records on one line, a missing comma, a trailing comma: not the layout, so parsed whole
    # (and refused where it is not JSON at all).
    at = next(i for i, line in enumerate(lines) if line == b'"links":[') + 1
    joined = [*lines[:at], lines[at] + lines[at + 1], *lines[at + 2 :]]
    (tmp_path / "joined.json").write_bytes(b"\n".join(joined))
    assert isinstance(transfer_check.read_file(tmp_path / "joined.json"), transfer_check.InMemory)
    for broken in (lines[at].rstrip(b","), lines[at] + b",", lines[at][:-3] + b","):
        bad = tmp_path / "bad.json"
        bad.write_bytes(b"\n".join([*lines[:at], broken, *lines[at + 1 :]]))
        failed = runner.invoke(cli, ["import", str(bad), "--database-url", _url(source)])
        assert failed.exit_code == 1 and "is not JSON" in failed.output, broken
    assert source.get("/export").content == before


def test_a_bad_link_at_the_end_of_a_streamed_file_changes_nothing(
    source: TestClient, empty: tuple[str, TestClient], tmp_path: Path
) -> None:
    url, target = empty
    document = orjson.loads(_export_file(source, tmp_path).read_bytes())
    document["links"].append({"model": "llama", "technique": "warp-drive"})
    bad = tmp_path / "bad.json"
    bad.write_bytes(_export_layout(document))
    assert isinstance(transfer_check.read_file(bad), transfer_check.DocumentFile)
    before = target.get("/export").content
    failed = runner.invoke(cli, ["import", str(bad), "--database-url", url])
    assert failed.exit_code == 1
    where = f"links[{len(document['links']) - 1}] (model 'llama', technique 'warp-drive')"
    assert f"{where}: technique 'warp-drive' does not exist" in failed.output
    assert target.get("/export").content == before and version(target) == 0
    assert target.get("/search?q=llama").json()["items"] == []


def test_duplicates_are_found_in_any_order(source: TestClient, tmp_path: Path) -> None:
    document = orjson.loads(_export_file(source, tmp_path).read_bytes())
    links = document["links"]
    links[:] = [links[3], *links[:3], *links[4:], links[1]]  # out of order, then a duplicate
    file = tmp_path / "dup.json"
    file.write_bytes(_export_layout(document))
    body = assert_problem(source.post("/import", json=document, headers=AUTH), 422)
    assert body["detail"].endswith("a duplicate of links[2]"), body["detail"]
    failed = runner.invoke(cli, ["import", str(file), "--database-url", _url(source)])
    assert failed.exit_code == 1 and "a duplicate of links[2]" in failed.output


def test_a_restore_stores_values_as_every_other_write_does(
    source: TestClient,
    empty: tuple[str, TestClient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows written in bulk hold the same stored text (timestamps included) as the source's,
    and the full-text index filled in bulk answers as the source's does."""
    monkeypatch.setattr(search_queries, "BULK_DOCUMENTS", 1)  # the bulk paths at any size
    monkeypatch.setattr(transfer_decks, "BULK_ROWS", 1)
    url, target = empty
    file = _export_file(source, tmp_path)
    assert runner.invoke(cli, ["import", str(file), "--database-url", url]).exit_code == 0
    assert target.get("/export").content == file.read_bytes()
    queries = [
        "SELECT m.slug, te.slug, mt.relation, mt.evidence, mt.created_at, mt.updated_at,"
        " mt.created_by FROM model_technique mt JOIN model m ON m.id = mt.model_id"
        " JOIN technique te ON te.id = mt.technique_id",
        "SELECT subject_kind, predicate, kind, quote, note, origin, created_at FROM source",
        "SELECT kind, slug, number, name, terms, body FROM search_document",
        "SELECT slug, name, aliases, category, created_at, updated_at FROM technique",
        "SELECT slug, release_date, date_precision, open_weights, parameters, created_at"
        " FROM model",
    ]
    for query in queries:
        rows = [_raw_rows(u, query) for u in (_url(source), url)]
        assert rows[0] == rows[1], query
    for q in ("aurora", "deepseek", "latent attention", "exported"):
        assert _unordered(target.get(f"/search?q={q}").json()) == _unordered(
            source.get(f"/search?q={q}").json()
        ), q
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO search_fts(search_fts) VALUES ('integrity-check')"
            )
            triggers = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            ).scalars()
            assert "search_document_after_insert" in set(triggers)
    engine.dispose()


def test_a_rolled_back_bulk_reindex_keeps_the_index_trigger(
    empty: tuple[str, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = empty
    engine = make_engine(url)
    if engine.dialect.name != "sqlite":
        engine.dispose()
        pytest.skip("the insert trigger is SQLite's")
    monkeypatch.setattr(search_queries, "BULK_DOCUMENTS", 1)
    with Session(engine) as session:
        lab = (
            "INSERT INTO lab (slug, name, kind, created_at, updated_at) VALUES (:s, :n, :k, :t, :t)"
        )
        session.execute(text(lab), {"s": "l1", "n": "Lab one", "k": "industry", "t": "2024-01-01"})
        search_queries.reindex(session, "lab")
        session.rollback()
    with engine.connect() as connection:
        sql = "SELECT count(*) FROM sqlite_master WHERE name = 'search_document_after_insert'"
        assert connection.exec_driver_sql(sql).scalar() == 1
    engine.dispose()


def _url(client: TestClient) -> str:
    return str(client.app.state.settings.database_url)  # type: ignore[attr-defined]


def _raw_rows(url: str, query: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = sorted(tuple(map(str, row)) for row in connection.exec_driver_sql(query))
    engine.dispose()
    return rows


def _export_layout(document: dict[str, Any]) -> bytes:
    """A document laid out as export writes it: one record per line (a deck's slides too)."""
    parts = [orjson.dumps({k: document[k] for k in ("format", "version", "data_version")})[:-1]]
    for name in transfer_check.LISTS:
        records = []
        for record in document[name]:
            if name == "decks":
                head = orjson.dumps({k: v for k, v in record.items() if k != "slides"})[:-1]
                slides = b",\n".join(orjson.dumps(s) for s in record["slides"])
                records.append(head + b',"slides":[\n' + slides + b"]}")
            else:
                records.append(orjson.dumps(record))
        body = b"\n" + b",\n".join(records) + b"\n]" if records else b"]"
        parts.append(b',\n"' + name.encode() + b'":[' + body)
    return b"".join(parts) + b"\n}\n"
