"""The collections on the seeded graph: filters, sorting, sub-collections and items."""

import pytest
from starlette.testclient import TestClient

from tests.helpers import assert_problem


def slugs(client: TestClient, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


def test_metas_models_in_date_order(client: TestClient) -> None:
    assert slugs(client, "/models?lab=meta") == ["llama", "llama-2", "llama-3", "llama-3-1"]
    assert slugs(client, "/labs/meta/models") == ["llama", "llama-2", "llama-3", "llama-3-1"]
    newest_first = slugs(client, "/models?lab=meta&sort=-release_date")
    assert newest_first == ["llama-3-1", "llama-3", "llama-2", "llama"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("family=deepseek&from=2025", ["deepseek-r1", "deepseek-r1-zero"]),
        ("year=2023&open_weights=false", ["gpt-4"]),
        (
            "min_parameters=400000000000",
            ["llama-3-1", "deepseek-v3", "deepseek-r1"],  # R1-Zero: no sourced size
        ),
        ("technique=multi-head-latent-attention&role=introduced", ["deepseek-v2"]),
        ("technique=sliding-window-attention", ["mistral-7b", "gemma-2"]),
        ("derived_from=deepseek-v3", ["deepseek-r1", "deepseek-r1-zero"]),
        ("lab=mistral-ai,alibaba-qwen", ["mistral-7b", "mixtral-8x7b", "qwen3"]),
        ("from=2024-05&to=2024-06", ["deepseek-v2", "gemma-2"]),
    ],
)
def test_model_filters(client: TestClient, query: str, expected: list[str]) -> None:
    assert sorted(slugs(client, f"/models?{query}")) == sorted(expected)


def test_techniques_filters(client: TestClient) -> None:
    assert slugs(client, "/techniques?introduced_by=qwen3&sort=slug") == [
        "thinking-budget",
        "thinking-mode-fusion",
    ]
    used = slugs(client, "/techniques?used_by=mistral-7b&category=attention&sort=slug")
    assert used == ["grouped-query-attention", "sliding-window-attention"]
    assert_problem(client.get("/techniques?category=magic"), 422, "category")


def test_papers_by_arxiv_id_and_slug_agree(client: TestClient) -> None:
    by_slug = client.get("/papers/arxiv-2307.09288").json()
    assert client.get("/papers/2307.09288").json() == by_slug
    assert client.get("/papers/arxiv:2307.09288v2").json() == by_slug
    assert by_slug["key_idea"] == "Open-source + safety alignment"
    assert [m["slug"] for m in by_slug["models"]] == ["llama-2"]
    assert [t["slug"] for t in by_slug["proposed_techniques"]] == ["ghost-attention"]
    assert by_slug["lab"]["slug"] == "meta"
    assert any(s["number"] == 5 for s in by_slug["slides"])
    assert slugs(client, "/papers/2407.21783/models") == ["llama-3", "llama-3-1"]


def test_paper_list_filters(client: TestClient) -> None:
    deepseek = slugs(client, "/papers?lab=deepseek")
    assert deepseek == [
        "arxiv-2401.06066",  # DeepSeekMoE
        "arxiv-2402.03300",  # DeepSeekMath (GRPO)
        "arxiv-2405.04434",
        "arxiv-2408.15664",  # auxiliary-loss-free load balancing
        "arxiv-2412.19437",
        "arxiv-2501.12948",
    ]
    in_2017 = slugs(client, "/papers?year=2017")
    assert in_2017 == ["arxiv-1701.06538", "arxiv-1706.03741"]


def test_lab_item_embeds_models_papers_and_sources(client: TestClient) -> None:
    lab = client.get("/labs/deepseek").json()
    assert lab["country"] == "CN"
    assert [m["slug"] for m in lab["models"]][:2] == ["deepseek-v2", "deepseek-v3"]
    assert any(s["kind"] == "slide" and s["slide"] == 9 for s in lab["sources"])
    assert slugs(client, "/labs?country=cn") == ["deepseek"]


def test_technique_item_and_its_models(client: TestClient) -> None:
    gqa = client.get("/techniques/grouped-query-attention").json()
    assert gqa["proposed_in"]["arxiv_id"] == "2305.13245"
    assert gqa["refines"]["slug"] == "multi-query-attention"
    assert gqa["introduced_by"] == []
    assert "GQA" in gqa["aliases"]
    models = client.get("/techniques/grouped-query-attention/models").json()["items"]
    roles = {m["slug"]: m["role"] for m in models}
    assert roles["llama-2"] == "uses" and roles["llama"] == "does_not_use"
    mla = client.get("/techniques/multi-head-latent-attention").json()
    assert [m["slug"] for m in mla["introduced_by"]] == ["deepseek-v2"]


def test_model_techniques_with_roles(client: TestClient) -> None:
    items = client.get("/models/deepseek-v2/techniques").json()["items"]
    roles = {t["slug"]: t["role"] for t in items}
    assert roles["multi-head-latent-attention"] == "introduced"
    assert roles["deepseekmoe"] == "uses"
    groups = client.get("/models/llama-2/techniques?group_by=role").json()["items"]
    assert {g["key"]: g["count"] for g in groups} == {"introduced": 1, "uses": 5}


def test_slides_list_their_mentions_and_items(client: TestClient) -> None:
    slide = client.get("/slides/6").json()
    assert slide["title"] == "Do we need a giant model?"
    mentioned = {(m["kind"], m["slug"]) for m in slide["mentions"]}
    assert {("model", "mistral-7b"), ("technique", "sliding-window-attention")} <= mentioned
    assert slide["previous"].endswith("/slides/5") and slide["next"].endswith("/slides/7")
    assert client.get(slide["url"]).json() == slide
    resources = client.get("/slides/13").json()["items"]
    assert [r["kind"] for r in resources] == ["resource"] * 4
    decks = client.get("/decks").json()["items"]
    assert decks[0]["slides"] == 14
    assert_problem(client.get("/slides/99"), 404)
    assert_problem(client.get("/slides/0"), 422, "number")


@pytest.mark.parametrize(
    "url", ["/labs/nope", "/papers/9999.99999", "/techniques/nope", "/decks/nope",
            "/models/nope/techniques", "/techniques/nope/models", "/papers/nope/models"],
)  # fmt: skip
def test_unknown_items_are_404_problems(client: TestClient, url: str) -> None:
    assert_problem(client.get(url), 404)
