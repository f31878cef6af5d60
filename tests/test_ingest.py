"""Ingesting a further deck: a fictional chapter 9 with two models, a technique and arXiv links."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from starlette.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.settings import Settings
from seed import DECK_PATH
from seed.load import seed_database
from tests.databases import seeded_database
from tests.helpers import assert_problem

KEY = "curator:s3cret-curator-key"
AUTH = {"Authorization": "Bearer s3cret-curator-key"}
DATA = Path(__file__).parent / "data"
DECK = (DATA / "chapter-9-fictional.md").read_bytes()
OVERLAY = (DATA / "chapter-9-overlay.yaml").read_bytes()
SLUG = "9-fictional-frontier-models"
runner = CliRunner()


def upload(deck: bytes = DECK, overlay: bytes | None = OVERLAY) -> dict[str, tuple[str, bytes]]:
    files = {"deck": ("chapter-9-fictional.md", deck)}
    if overlay is not None:
        files["overlay"] = ("overlay.yaml", overlay)
    return files


@pytest.fixture(scope="module")
def ingested(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A seeded database of its own, with a write key, into which chapter 9 is ingested once."""
    with seeded_database(dialect, tmp_path_factory.mktemp("ingest")) as url:
        settings = Settings(database_url=url, api_keys=KEY)
        with TestClient(create_app(settings)) as client:
            response = client.post("/decks", files=upload(), headers=AUTH)
            assert response.status_code == 201, response.text
            client.app.state.first_report = response.json()  # type: ignore[attr-defined]
            yield client


def version(client: TestClient) -> int:
    return int(client.get("/health").json()["data_version"])


def count(client: TestClient, sql: str) -> int:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar())


def test_the_deck_is_stored_with_a_report(ingested: TestClient) -> None:
    report = ingested.app.state.first_report  # type: ignore[attr-defined]
    assert report["deck"] == SLUG and report["changed"]
    assert report["created"] == {
        "decks": [SLUG], "slides": [1, 2, 3, 4, 5], "labs": ["aurora-labs"],
        "papers": ["arxiv-2601.00001"], "models": ["aurora-7b", "aurora-moe"],
        "techniques": ["echo-attention"],
    }  # fmt: skip
    assert report["updated"] == {}
    deck = ingested.get(f"/decks/{SLUG}").json()
    assert deck["title"] == "9. Fictional Frontier Models"
    slides = ingested.get(f"/decks/{SLUG}/slides").json()["items"]
    assert [s["number"] for s in slides] == [1, 2, 3, 4, 5]
    changes = ingested.get(f"/changes?since={report['data_version'] - 1}").json()["items"]
    created = {(c["kind"], c["slug"]) for c in changes if c["operation"] == "created"}
    assert ("model", "aurora-7b") in created and ("technique", "echo-attention") in created
    linked = {(c["kind"], c["slug"]) for c in changes if c["operation"] == "updated"}
    assert ("paper", "arxiv-2405.04434") in linked and all(c["key"] == "curator" for c in changes)


def test_the_timeline_shows_the_two_fictional_models(ingested: TestClient) -> None:
    events = ingested.get("/timeline?lab=aurora-labs&kind=model").json()["items"]
    assert [(e["entity"]["slug"], e["date"]) for e in events] == [
        ("aurora-7b", "2026-01"),
        ("aurora-moe", "2026-03"),
    ]
    models = ingested.get("/models?lab=aurora-labs").json()["items"]
    assert [m["slug"] for m in models] == ["aurora-7b", "aurora-moe"]
    assert {m["paper"]["arxiv_id"] for m in models} == {"2601.00001"}


def test_introductions_show_the_technique_the_fictional_model_introduced(
    ingested: TestClient,
) -> None:
    rows = {r["technique"]["slug"]: r for r in ingested.get("/introductions").json()["items"]}
    echo = rows["echo-attention"]
    assert [m["slug"] for m in echo["introduced_by"]] == ["aurora-7b"]
    assert (
        echo["paper"]["arxiv_id"] == "2601.00001" and echo["technique"]["category"] == "attention"
    )
    assert [m["slug"] for m in rows["multi-head-latent-attention"]["introduced_by"]] == [
        "deepseek-v2"
    ]
    moe = ingested.get("/models/aurora-moe").json()
    mla = next(t for t in moe["techniques"] if t["slug"] == "multi-head-latent-attention")
    assert mla["role"] == "uses" and mla["sources"][0]["deck"] == SLUG


def test_a_known_arxiv_id_is_linked_not_duplicated(ingested: TestClient) -> None:
    assert count(ingested, "SELECT count(*) FROM paper WHERE arxiv_id = '2405.04434'") == 1
    paper = ingested.get("/papers/2405.04434").json()
    assert paper["slug"] == "arxiv-2405.04434"
    assert paper["title"].startswith("DeepSeek-V2: A Strong")  # not the new deck's link label
    assert {(s["deck"], s["number"]) for s in paper["slides"]} >= {(SLUG, 3)}
    new = ingested.get("/papers/2601.00001").json()
    assert new["lab"]["slug"] == "aurora-labs" and new["published_date"] == "2026"
    assert new["key_idea"].startswith("Echo attention reuses")


def test_ingesting_the_same_deck_again_changes_nothing(ingested: TestClient) -> None:
    before, exported = version(ingested), ingested.get("/export").content
    response = ingested.post("/decks", files=upload(), headers=AUTH)
    assert response.status_code == 200
    report = response.json()
    assert not report["changed"] and report["data_version"] == before
    assert report["created"] == {} and report["updated"] == {} and report["rows"] == {}
    assert version(ingested) == before and ingested.get("/export").content == exported


def test_the_seed_stays_idempotent_after_an_ingest(ingested: TestClient) -> None:
    engine = ingested.app.state.engine  # type: ignore[attr-defined]
    assert not seed_database(engine).changed


def test_a_changed_deck_updates_its_slides(ingested: TestClient) -> None:
    before = version(ingested)
    changed = DECK.replace(
        b"- What does a sparse mixture of experts save?",
        b"- What does a sparse mixture of experts save?\n- Which layer does echo attention skip?",
    )
    report = ingested.post("/decks", files=upload(changed), headers=AUTH).json()
    assert report["changed"] and report["updated"] == {"decks": [SLUG], "slides": [5]}
    assert report["data_version"] == before + 1
    slide = ingested.get(f"/decks/{SLUG}/slides/5").json()
    assert "Which layer does echo attention skip?" in slide["body"]
    assert len(slide["items"]) == 3
    assert ingested.get(f"/decks/{SLUG}").json()["sha256"] != ""


def test_a_wrong_quote_is_422_naming_fact_and_slide_and_changes_nothing(
    ingested: TestClient,
) -> None:
    before, exported = version(ingested), ingested.get("/export").content
    overlay = yaml.safe_load(OVERLAY)
    overlay["models"][0]["facts"][2]["sources"][0]["quote"] = "released in June 2026"
    overlay["labs"].append({"slug": "never-stored", "name": "Never stored"})
    broken = yaml.safe_dump(overlay).encode()
    body = assert_problem(ingested.post("/decks", files=upload(overlay=broken), headers=AUTH), 422)
    assert "model 'aurora-7b', fact 'release_date'" in body["detail"]
    assert "'released in June 2026' is not on slide 2" in body["detail"]
    assert version(ingested) == before and ingested.get("/export").content == exported


@pytest.mark.parametrize(
    ("deck", "overlay", "detail"),
    [
        (DECK, b"models: [unclosed", "overlay: not valid YAML"),
        (DECK, b"models:\n  - slug: x\n    colour: red\n", "overlay: models.0.colour"),
        (b"\xff\xfe not text", None, "deck: not UTF-8 text"),
        (b"   \n", None, "deck: the file is empty"),
    ],
)
def test_bad_uploads_are_422(
    ingested: TestClient, deck: bytes, overlay: bytes | None, detail: str
) -> None:
    body = assert_problem(ingested.post("/decks", files=upload(deck, overlay), headers=AUTH), 422)
    assert body["detail"].startswith(detail), body["detail"]


def test_the_seed_deck_is_left_to_the_seed(ingested: TestClient) -> None:
    files = {"deck": ("deck.txt", DECK_PATH.read_bytes())}
    body = assert_problem(ingested.post("/decks", files=files, headers=AUTH), 409)
    assert "paperkg seed" in body["detail"]


def test_ingest_needs_a_write_key(ingested: TestClient) -> None:
    assert_problem(ingested.post("/decks", files=upload()), 401)


def test_cli_ingest(empty_url: str) -> None:
    assert runner.invoke(cli, ["seed", "--database-url", empty_url]).exit_code == 0
    args = ["ingest", str(DATA / "chapter-9-fictional.md"), "--overlay",
            str(DATA / "chapter-9-overlay.yaml"), "--database-url", empty_url]  # fmt: skip
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "created models: aurora-7b, aurora-moe" in first.output
    again = runner.invoke(cli, args)
    assert again.exit_code == 0 and "nothing to change" in again.output
    wrong = DATA.parent / "data" / "chapter-9-overlay.yaml"
    failed = runner.invoke(cli, [*args[:2], "--database-url", empty_url, "--overlay",
                                 str(wrong.with_name("missing.yaml"))])  # fmt: skip
    assert failed.exit_code != 0
