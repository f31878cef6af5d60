"""GET /search, /autocomplete and /resolve, and the search index behind them."""

from typing import Any

import pytest
from sqlalchemy import Engine, bindparam, func, inspect, select, text
from sqlmodel import Session
from starlette.testclient import TestClient

from api import migrate
from api.queries import search as search_queries
from models import tables as t
from models.search import Resolved, SearchHit, Suggestion
from seed.load import seed_database
from tests.helpers import assert_problem

DECK = "4-open-source-llm-milestones"


def hits(client: TestClient, q: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next"] is None
    items: list[dict[str, Any]] = body["items"]
    for item in items:  # the documented shape, as the OpenAPI description promises
        SearchHit.model_validate(item, strict=True)
    return items


def slugs(items: list[dict[str, Any]], kind: str) -> list[str]:
    return [item["slug"] for item in items if item["kind"] == kind]


def test_latent_finds_the_technique_and_the_model_that_introduced_it(client: TestClient) -> None:
    items = hits(client, "latent")
    assert items[0]["slug"] == "multi-head-latent-attention"
    assert (items[0]["kind"], items[0]["name"]) == ("technique", "Multi-head latent attention")
    assert items[0]["url"] == "/techniques/multi-head-latent-attention"
    assert "deepseek-v2" in slugs(items, "model")
    assert all("«" in item["snippet"] and "»" in item["snippet"] for item in items)
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True)


def test_several_words_must_all_match(client: TestClient) -> None:
    items = hits(client, "latent attention")
    assert slugs(items, "technique") == ["multi-head-latent-attention"]
    assert hits(client, "latent mixtral") == []


def test_a_prefix_finds_mixtral_first_among_models(client: TestClient) -> None:
    items = hits(client, "mixtr")
    assert slugs(items, "model")[0] == "mixtral-8x7b"
    mixtral = next(item for item in items if item["slug"] == "mixtral-8x7b")
    assert mixtral["url"] == "/models/mixtral-8x7b" and mixtral["name"] == "Mixtral 8x7B"
    assert "arxiv-2401.04088" in slugs(items, "paper")


@pytest.mark.parametrize("q", ["GQA", "gqa", "Gqa"])
def test_an_alias_finds_its_technique_in_any_case(client: TestClient, q: str) -> None:
    items = hits(client, q)
    assert "grouped-query-attention" in slugs(items, "technique")
    technique = next(item for item in items if item["slug"] == "grouped-query-attention")
    assert "«GQA»" in technique["snippet"]


def test_slides_only_with_a_snippet_from_the_slide_text(client: TestClient) -> None:
    items = hits(client, "router", kind="slide")
    assert items and {item["kind"] for item in items} == {"slide"}
    assert {item["number"] for item in items} >= {8}
    for item in items:
        assert item["slug"] == DECK
        assert item["url"] == f"/decks/{DECK}/slides/{item['number']}"
        assert "«router»" in item["snippet"].lower()
    receptionist = hits(client, "receptionist", kind="slide")
    assert [item["number"] for item in receptionist] == [8]
    assert "the «receptionist» (called the" in receptionist[0]["snippet"]


def test_kinds_combine_and_unknown_kinds_are_refused(client: TestClient) -> None:
    items = hits(client, "deepseek", kind="model,lab")
    assert {item["kind"] for item in items} == {"model", "lab"}
    assert "deepseek" in slugs(items, "lab")
    body = assert_problem(
        client.get("/search", params={"q": "x", "kind": "model,llm"}), 422, "kind"
    )
    assert "llm" in body["detail"]


def test_an_arxiv_id_finds_its_paper(client: TestClient) -> None:
    assert slugs(hits(client, "2407.21783"), "paper") == ["arxiv-2407.21783"]


def test_limit_is_honoured_and_bounded(client: TestClient) -> None:
    assert len(hits(client, "deepseek", limit=2)) == 2
    assert_problem(client.get("/search", params={"q": "x", "limit": 0}), 422, "limit")
    assert_problem(client.get("/search", params={"q": "x", "limit": 101}), 422, "limit")


HOSTILE = [
    '"',
    '"unbalanced',
    "NEAR(",
    "NEAR(a b, 2)",
    "' OR 1=1 --",
    "'; DROP TABLE model; --",
    "*",
    "-",
    "- mixtral",
    ":",
    "name:mixtral",
    "{name}: x",
    "&",
    "|",
    "a & | b",
    "!",
    "()",
    ")(",
    "AND OR NOT",
    "\\",
    "%",
    "_",
    "^mixtral",
    "mixtral:*",
    "mixtral <-> 8x7b",
    "😀 ünïcode ✓",
    "x" * 200,
    "a " * 100,
]


@pytest.mark.parametrize("q", HOSTILE)
def test_query_syntax_never_breaks_the_query(client: TestClient, q: str) -> None:
    for path in ("/search", "/autocomplete"):
        response = client.get(path, params={"q": q})
        assert response.status_code == 200, (path, response.text)
        assert isinstance(response.json()["items"], list)
    assert client.get("/models/mixtral-8x7b").status_code == 200


def test_operators_are_words_not_syntax(client: TestClient) -> None:
    assert "mixtral-8x7b" in slugs(hits(client, "- mixtral"), "model")
    assert "mixtral-8x7b" in slugs(hits(client, "mixtral:*"), "model")
    assert hits(client, '"') == [] and hits(client, "*") == []


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"q": "x" * 201}])
def test_a_missing_blank_or_long_q_is_a_problem_naming_q(
    client: TestClient, params: dict[str, str]
) -> None:
    assert_problem(client.get("/search", params=params), 422, "q")


@pytest.mark.parametrize("path", ["/search", "/autocomplete", "/resolve"])
def test_a_nul_byte_is_refused_never_searched(client: TestClient, path: str) -> None:
    response = client.get(path, params={"q": "mix\x00tral", "id": "mix\x00tral"})
    # A request guard in front of the app may refuse it first (400); the routes answer 422.
    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code)


def test_search_answers_carry_an_etag(client: TestClient) -> None:
    first = client.get("/search", params={"q": "llama"})
    again = client.get(
        "/search", params={"q": "llama"}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


def test_autocomplete_deep_suggests_the_deepseek_lab_and_models(client: TestClient) -> None:
    response = client.get("/autocomplete", params={"q": "deep"})
    assert response.status_code == 200
    items = response.json()["items"]
    assert 0 < len(items) <= 10
    assert items[0] == {
        "kind": "lab",
        "slug": "deepseek",
        "name": "DeepSeek",
        "url": "/labs/deepseek",
    }
    assert {"deepseek-v2", "deepseek-v3", "deepseek-r1"} <= set(slugs(items, "model"))
    for item in items:
        assert set(item) == {"kind", "slug", "name", "url"}
        Suggestion.model_validate(item, strict=True)


def test_autocomplete_matches_aliases_and_word_starts(client: TestClient) -> None:
    gqa = client.get("/autocomplete", params={"q": "GQ"}).json()["items"]
    assert gqa[0]["slug"] == "grouped-query-attention"
    latent = client.get("/autocomplete", params={"q": "laten"}).json()["items"]
    assert "multi-head-latent-attention" in slugs(latent, "technique")
    # Descriptions and slide text are for /search, not for type-ahead.
    assert client.get("/autocomplete", params={"q": "receptionist"}).json()["items"] == []


def test_autocomplete_filters_kinds_and_limits(client: TestClient) -> None:
    items = client.get("/autocomplete", params={"q": "deep", "kind": "model"}).json()["items"]
    assert items and {item["kind"] for item in items} == {"model"}
    assert len(client.get("/autocomplete", params={"q": "d", "limit": 3}).json()["items"]) == 3
    assert_problem(client.get("/autocomplete", params={"q": "d", "kind": "slide"}), 422, "kind")
    assert_problem(client.get("/autocomplete", params={"q": "d", "limit": 21}), 422, "limit")


def test_autocomplete_on_a_blank_box_suggests_nothing(client: TestClient) -> None:
    for q in ("", "  "):
        response = client.get("/autocomplete", params={"q": q})
        assert response.status_code == 200 and response.json()["items"] == []
    assert_problem(client.get("/autocomplete"), 422, "q")


@pytest.mark.parametrize(
    "key",
    [
        "arxiv:2407.21783",
        "arXiv:2407.21783v2",
        "2407.21783",
        "2407.21783v2",
        "https://arxiv.org/abs/2407.21783",
        "arxiv-2407.21783",
    ],
)
def test_resolve_an_arxiv_id_redirects_to_the_paper(client: TestClient, key: str) -> None:
    response = client.get("/resolve", params={"id": key}, follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/papers/arxiv-2407.21783"
    assert Resolved.model_validate(response.json()) == Resolved(
        kind="paper", slug="arxiv-2407.21783", url="/papers/arxiv-2407.21783"
    )


@pytest.mark.parametrize(
    ("key", "location"),
    [
        ("llama-2", "/models/llama-2"),
        ("Llama-2", "/models/llama-2"),
        ("deepseek", "/labs/deepseek"),
        ("grouped-query-attention", "/techniques/grouped-query-attention"),
    ],
)
def test_resolve_a_slug_of_any_kind(client: TestClient, key: str, location: str) -> None:
    response = client.get("/resolve", params={"id": key}, follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == location


def test_resolve_an_unknown_id_suggests_close_slugs(client: TestClient) -> None:
    body = assert_problem(client.get("/resolve", params={"id": "mixtrel"}), 404)
    assert "mixtral-8x7b" in body["suggestions"]
    assert_problem(client.get("/resolve", params={"id": "arxiv:9999.99999"}), 404)


def test_resolve_needs_an_id(client: TestClient) -> None:
    assert_problem(client.get("/resolve"), 422, "id")
    assert_problem(client.get("/resolve", params={"id": " "}), 422, "id")


def test_words_keep_only_letters_and_digits() -> None:
    assert search_queries.words('"NEAR(a, b)" OR * -x:y') == ["near", "a", "b", "or", "x", "y"]
    assert search_queries.words("GQA gqa") == ["gqa"]
    assert len(search_queries.words("a b c d e f g h i j k l m n o p q r s")) == 16
    assert search_queries.fts5_match(["mixtr", "8x"]) == '"mixtr"* "8x"*'
    assert search_queries.tsquery(["gqa"], weights="AB") == "'gqa':*AB"


# The index itself: one document per entity and slide, current after the seed.

COUNTED = {"lab": t.lab, "paper": t.paper, "model": t.model, "technique": t.technique}


def test_the_index_holds_one_document_per_entity_and_slide(seeded_engine: Engine) -> None:
    document = search_queries.document
    with Session(seeded_engine) as session:
        rows = session.execute(
            select(document.c.kind, func.count().label("count")).group_by(document.c.kind)
        )
        indexed = {row.kind: row.count for row in rows}
        expected = {
            kind: session.execute(select(func.count()).select_from(table)).scalar_one()
            for kind, table in COUNTED.items()
        }
        expected["slide"] = session.execute(select(func.count()).select_from(t.slide)).scalar_one()
        assert indexed == expected
        assert sum(indexed.values()) == 6 + 31 + 14 + 23 + 14
        if seeded_engine.dialect.name == "sqlite":
            # FTS5 checks its index against the content table; raises when they disagree.
            session.execute(text("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')"))


def test_the_full_text_index_answers_the_match(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as connection:
        if seeded_engine.dialect.name == "sqlite":
            plan = connection.execute(
                text("EXPLAIN QUERY PLAN " + search_queries.SQLITE_SEARCH.text).bindparams(
                    bindparam("kinds", expanding=True)
                ),
                {"match": '"mixtr"*', "kinds": ["model"], "limit": 5},
            ).all()
            assert any("VIRTUAL TABLE INDEX" in row[-1] for row in plan), plan
            return
        # The GIN index is over this exact expression; both statements must use it as written.
        match = "search_document_vector(d.name, d.terms, d.body) @@ query"
        assert match in search_queries.POSTGRES_SEARCH.text
        assert match in search_queries.POSTGRES_AUTOCOMPLETE.text
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = connection.execute(
            text(
                "EXPLAIN SELECT d.id FROM search_document AS d,"
                f" to_tsquery('simple', :match) AS query WHERE {match}"
            ),
            {"match": "'mixtr':*"},
        ).scalars()
        assert "ix_search_document_vector" in "\n".join(plan)


def test_reindexing_one_entity_makes_a_change_searchable(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    seed_database(empty_engine)
    with Session(empty_engine) as session, session.begin():
        model_id = session.execute(
            select(t.model.c.id).where(t.model.c.slug == "mixtral-8x7b")
        ).scalar_one()
        session.execute(
            t.model.update().where(t.model.c.id == model_id).values(name="Mixtral Octopus")
        )
        assert search_queries.search(session, "octopus") == []
        changes = search_queries.reindex(session, "model", [model_id])
        assert changes == {"search_document updated": 1}
        found = search_queries.search(session, "octop")
        assert [(h["kind"], h["slug"], h["name"]) for h in found] == [
            ("model", "mixtral-8x7b", "Mixtral Octopus")
        ]
        assert search_queries.autocomplete(session, "mixtral oct")[0]["slug"] == "mixtral-8x7b"
        assert search_queries.reindex(session, "model", [model_id]) == {}


def test_reindexing_a_deleted_slide_removes_its_document(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    seed_database(empty_engine)
    with Session(empty_engine) as session, session.begin():
        slide_id = session.execute(select(t.slide.c.id).where(t.slide.c.number == 8)).scalar_one()
        assert search_queries.search(session, "receptionist", kinds=["slide"])
        session.execute(t.slide.delete().where(t.slide.c.id == slide_id))
        changes = search_queries.reindex(session, "slide", [slide_id])
        assert changes == {"search_document deleted": 1}
        assert search_queries.search(session, "receptionist") == []
        # A full refresh finds nothing else to do, and the next seed puts the slide back.
        assert search_queries.refresh_search_index(session) == {}
    report = seed_database(empty_engine)
    assert report.changes["search_document inserted"] == 1
    with Session(empty_engine) as session:
        assert search_queries.search(session, "receptionist")[0]["number"] == 8


def test_the_migration_goes_down_without_a_trace(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine, "65515a0b6818")
    with empty_engine.connect() as connection:
        assert not [name for name in inspect(connection).get_table_names() if "search" in name]
        if empty_engine.dialect.name == "sqlite":
            leftovers = "SELECT count(*) FROM sqlite_master WHERE sql LIKE '%search_%'"
        else:
            leftovers = "SELECT count(*) FROM pg_proc WHERE proname = 'search_document_vector'"
        assert connection.execute(text(leftovers)).scalar_one() == 0
    migrate.upgrade(empty_engine)
    assert "search_document" in inspect(empty_engine).get_table_names()
