"""Who introduced what: a technique's origin, a model's contributions, the whole table."""

from typing import Any

from starlette.testclient import TestClient

from models.timeline import IntroductionTable, ModelIntroductions, TechniqueIntroductions
from tests.helpers import assert_problem, counted_statements


def slugs(items: list[dict[str, Any]]) -> list[str]:
    return [item["slug"] for item in items]


def test_multi_head_latent_attention_was_introduced_by_deepseek_v2(client: TestClient) -> None:
    response = client.get("/techniques/multi-head-latent-attention/introduced-by")
    assert response.status_code == 200
    body = response.json()
    assert body["technique"]["category"] == "attention"
    assert body["proposed_in"]["arxiv_id"] == "2405.04434"
    assert body["proposed_in"]["lab"]["slug"] == "deepseek"
    assert any(s["about"] == "proposed_in" for s in body["proposed_in"]["sources"])
    assert slugs(body["introduced_by"]) == ["deepseek-v2"]
    assert body["first_adopter"]["slug"] == "deepseek-v2"
    assert body["first_adopter"]["role"] == "introduced"
    roles = {a["slug"]: a["role"] for a in body["adopters"]}
    assert roles == {"deepseek-v2": "introduced", "deepseek-v3": "uses"}
    quotes = [s for s in body["introduced_by"][0]["sources"] if s["kind"] == "slide"]
    assert any(s["slide"] == 9 and "compress" in s["quote"] for s in quotes)


def test_grouped_query_attention_came_from_a_paper_without_a_model(client: TestClient) -> None:
    body = client.get("/techniques/grouped-query-attention/introduced-by").json()
    assert body["proposed_in"]["arxiv_id"] == "2305.13245"
    assert body["proposed_in"]["published_date"] == "2023-05-22"
    assert body["proposed_in"]["lab"] is None
    assert body["introduced_by"] == []
    assert body["first_adopter"]["slug"] == "llama-2"
    adopters = slugs(body["adopters"])
    assert adopters[:4] == ["llama-2", "mistral-7b", "mixtral-8x7b", "llama-3"]
    assert {a["role"] for a in body["adopters"]} == {"uses"}
    assert all(a["sources"] for a in body["adopters"])
    assert "llama" in slugs(body["not_used_by"])
    assert "llama" not in adopters


def test_sliding_window_attention_was_proposed_outside_the_deck(client: TestClient) -> None:
    body = client.get("/techniques/sliding-window-attention/introduced-by").json()
    assert body["proposed_in"]["arxiv_id"] == "1904.10509"
    assert body["introduced_by"] == []
    mistral = next(a for a in body["adopters"] if a["slug"] == "mistral-7b")
    assert mistral["role"] == "uses"
    assert any(s["kind"] == "slide" and s["slide"] == 6 for s in mistral["sources"])
    not_used = {m["slug"]: m for m in body["not_used_by"]}
    assert "mixtral-8x7b" in not_used
    assert not_used["mixtral-8x7b"]["sources"]


def test_a_technique_with_no_verified_origin(client: TestClient) -> None:
    body = client.get("/techniques/logit-soft-capping/introduced-by").json()
    assert body["proposed_in"] is None
    assert body["introduced_by"] == []
    assert body["first_adopter"]["slug"] == "gemma-2"


def test_introduced_by_runs_a_fixed_handful_of_queries(client: TestClient) -> None:
    with counted_statements(client) as statements:
        client.get("/techniques/rope/introduced-by")
    assert len(statements) <= 5, statements


def test_unknown_technique_is_a_404_with_suggestions(client: TestClient) -> None:
    body = assert_problem(client.get("/techniques/grouped-query-atention/introduced-by"), 404)
    assert "grouped-query-attention" in body["suggestions"]


def test_deepseek_v3_adopted_what_v2_introduced(client: TestClient) -> None:
    body = client.get("/models/deepseek-v3/introduced").json()
    assert body["model"]["slug"] == "deepseek-v3"
    assert body["model"]["lab"]["slug"] == "deepseek"
    assert body["introduced"] == []
    adopted = {t["slug"]: t for t in body["adopted"]}
    mla = adopted["multi-head-latent-attention"]
    assert mla["first_in_graph"] is False
    assert mla["proposed_in"]["arxiv_id"] == "2405.04434"
    fp8 = adopted["fp8-mixed-precision-training"]
    assert fp8["first_in_graph"] is True
    assert fp8["proposed_in"]["arxiv_id"] == "2209.05433"
    assert fp8["sources"]


def test_deepseek_v2_introduced_multi_head_latent_attention(client: TestClient) -> None:
    body = client.get("/models/deepseek-v2/introduced").json()
    introduced = {t["slug"]: t for t in body["introduced"]}
    assert list(introduced) == ["multi-head-latent-attention"]
    assert introduced["multi-head-latent-attention"]["proposed_in"]["arxiv_id"] == "2405.04434"
    assert any(s["kind"] == "slide" for s in introduced["multi-head-latent-attention"]["sources"])
    assert "deepseekmoe" in slugs(body["adopted"])


def test_a_model_lists_what_it_does_not_use(client: TestClient) -> None:
    body = client.get("/models/mixtral-8x7b/introduced").json()
    assert slugs(body["does_not_use"]) == ["sliding-window-attention"]
    assert body["does_not_use"][0]["sources"]
    adopted = {t["slug"]: t["first_in_graph"] for t in body["adopted"]}
    assert adopted["sparse-mixture-of-experts"] is True
    assert adopted["grouped-query-attention"] is False


def test_unknown_model_introduced_is_a_404_with_suggestions(client: TestClient) -> None:
    body = assert_problem(client.get("/models/deepseek-v4/introduced"), 404)
    assert "deepseek-v2" in body["suggestions"]


def test_the_introductions_table_has_one_row_per_technique(client: TestClient) -> None:
    response = client.get("/introductions")
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    rows = {row["technique"]["slug"]: row for row in body["items"]}
    assert len(rows) == len(body["items"]) == client.get("/stats").json()["entities"]["techniques"]
    mla = rows["multi-head-latent-attention"]
    assert slugs(mla["introduced_by"]) == ["deepseek-v2"]
    assert mla["paper"]["arxiv_id"] == "2405.04434"
    assert mla["date"] == "2024-05-07"
    assert mla["adopters_count"] == 2
    gqa = rows["grouped-query-attention"]
    assert gqa["introduced_by"] == []
    assert gqa["paper"]["arxiv_id"] == "2305.13245"
    assert gqa["first_adopter"]["slug"] == "llama-2"
    assert gqa["first_adopter"]["release_date"] == "2023-07-18"
    assert gqa["adopters_count"] == 7
    assert rows["logit-soft-capping"]["paper"] is None
    assert rows["multi-query-attention"]["first_adopter"] is None
    assert rows["multi-query-attention"]["adopters_count"] == 0
    dated = [(r["date"], r["technique"]["slug"]) for r in body["items"] if r["date"]]
    assert dated == sorted(dated)
    assert body["items"][-1]["date"] is None  # techniques without a known origin come last


def test_introductions_filter_by_category_lab_and_year(client: TestClient) -> None:
    attention = client.get("/introductions?category=attention").json()["items"]
    assert attention and {r["technique"]["category"] for r in attention} == {"attention"}
    assert "grouped-query-attention" in {r["technique"]["slug"] for r in attention}
    several = client.get("/introductions?category=attention,alignment").json()["items"]
    assert {r["technique"]["category"] for r in several} == {"attention", "alignment"}
    deepseek = client.get("/introductions?lab=deepseek").json()["items"]
    assert "multi-head-latent-attention" in {r["technique"]["slug"] for r in deepseek}
    for row in deepseek:
        labs = {m["lab"]["slug"] for m in row["introduced_by"]}
        assert "deepseek" in labs or row["paper"]["lab"]["slug"] == "deepseek"
    year = client.get("/introductions?year=2023").json()["items"]
    assert {r["technique"]["slug"] for r in year} >= {"grouped-query-attention", "ghost-attention"}
    assert all(r["date"].startswith("2023") for r in year)


def test_introductions_run_a_fixed_number_of_queries(client: TestClient) -> None:
    with counted_statements(client) as statements:
        client.get("/introductions?year=2024")
    assert len(statements) <= 3, statements


def test_unknown_category_is_a_422_naming_category(client: TestClient) -> None:
    assert_problem(client.get("/introductions?category=attention,magic"), 422, "category")
    assert_problem(client.get("/introductions?year=twenty"), 422, "year")


def test_answers_match_their_documented_shapes(client: TestClient) -> None:
    table = IntroductionTable.model_validate(client.get("/introductions").json())
    for row in table.items:
        url = f"/techniques/{row.technique.slug}/introduced-by"
        TechniqueIntroductions.model_validate(client.get(url).json())
    for model in ("llama", "deepseek-v2", "mixtral-8x7b", "qwen3"):
        ModelIntroductions.model_validate(client.get(f"/models/{model}/introduced").json())
