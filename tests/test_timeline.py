"""GET /timeline: releases, papers and proposed techniques in one date-ordered stream."""

import base64
from typing import Any

from starlette.testclient import TestClient

from models.schemas import Page
from models.timeline import TimelineEvent, TimelineGroups
from tests.helpers import assert_problem


def everything(client: TestClient, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/timeline?limit=500{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next"] is None
    items: list[dict[str, Any]] = body["items"]
    return items


def keys(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["kind"], e["entity"]["slug"]) for e in events]


def test_meta_models_in_release_order(client: TestClient) -> None:
    events = client.get("/timeline?lab=meta&kind=model").json()["items"]
    assert [(e["entity"]["slug"], e["date"]) for e in events] == [
        ("llama", "2023-02-24"),
        ("llama-2", "2023-07-18"),
        ("llama-3", "2024-04-18"),
        ("llama-3-1", "2024-07-23"),
    ]
    llama_2 = events[1]
    assert llama_2["title"] == "Llama 2 released"
    assert llama_2["date_precision"] == "day"
    assert llama_2["lab"]["slug"] == "meta"
    assert llama_2["entity"] == {
        "kind": "model",
        "slug": "llama-2",
        "name": "Llama 2",
        "url": "/models/llama-2",
    }
    assert llama_2["summary"] and "\n" not in llama_2["summary"]


def test_the_whole_stream_is_sorted_by_date_kind_and_slug(client: TestClient) -> None:
    events = everything(client)
    assert {e["kind"] for e in events} == {"model", "paper", "technique"}
    order = [(e["date"], e["kind"], e["entity"]["slug"]) for e in events]
    assert order == sorted(order)
    assert len(set(keys(events))) == len(events)
    assert all(len(e["summary"] or "") <= 160 for e in events)


def test_2024_holds_exactly_the_2024_events(client: TestClient) -> None:
    year = everything(client, "&from=2024&to=2024")
    assert year == [e for e in everything(client) if e["date"].startswith("2024")]
    assert ("paper", "arxiv-2401.04088") in keys(year)
    mixtral_paper = next(e for e in year if e["entity"]["slug"] == "arxiv-2401.04088")
    assert mixtral_paper["date"] == "2024-01-08"
    assert mixtral_paper["title"].endswith(" published")
    assert ("model", "mixtral-8x7b") not in keys(year)
    assert ("model", "mixtral-8x7b") in keys(everything(client, "&from=2023-12&to=2023-12"))


def test_descending_order_is_the_exact_reverse(client: TestClient) -> None:
    assert everything(client, "&order=desc") == list(reversed(everything(client)))


def test_grouped_by_year_counts_add_up(client: TestClient) -> None:
    response = client.get("/timeline?group=year")
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None and body["truncated"] is False
    groups = body["items"]
    all_events = everything(client)
    assert sum(g["count"] for g in groups) == len(all_events)
    assert [e for g in groups for e in g["events"]] == all_events
    assert [g["key"] for g in groups] == sorted({e["date"][:4] for e in all_events})
    for group in groups:
        assert group["label"] == group["key"]
        assert group["count"] == len(group["events"])
        assert all(e["date"].startswith(group["key"]) for e in group["events"])


def test_grouped_by_month_with_filters(client: TestClient) -> None:
    groups = client.get("/timeline?group=month&lab=deepseek&order=desc").json()["items"]
    assert groups[0]["key"] == "2025-01" and groups[0]["label"] == "January 2025"
    assert [g["key"] for g in groups] == sorted((g["key"] for g in groups), reverse=True)
    may = next(g for g in groups if g["key"] == "2024-05")
    assert {e["entity"]["slug"] for e in may["events"]} == {
        "deepseek-v2",
        "arxiv-2405.04434",
        "multi-head-latent-attention",
    }


def test_paging_with_limit_7_returns_every_event_once(client: TestClient) -> None:
    walked: list[dict[str, Any]] = []
    url: str | None = "/timeline?limit=7"
    pages = 0
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= 7
        if body["next"]:
            assert response.headers["link"] == f'<{body["next"]}>; rel="next"'
        else:
            assert "link" not in response.headers
        walked.extend(body["items"])
        url = body["next"]
        pages += 1
    assert walked == everything(client)
    assert pages == -(-len(walked) // 7)


def test_paging_backwards_through_a_filtered_stream(client: TestClient) -> None:
    query = "&lab=meta,deepseek&kind=model,technique&order=desc"
    expected = everything(client, query)
    walked: list[dict[str, Any]] = []
    url: str | None = f"/timeline?limit=2{query}"
    while url is not None:
        body = client.get(url).json()
        walked.extend(body["items"])
        url = body["next"]
    assert walked == expected
    # R1's paper (2025-01-22) follows the release day that DeepSeek-R1 and R1-Zero share; on
    # that day the slug breaks the tie, reversed.
    assert keys(walked)[:3] == [
        ("technique", "pure-rl-reasoning"),
        ("model", "deepseek-r1-zero"),
        ("model", "deepseek-r1"),
    ]


def test_technique_filter_gives_the_proposal_its_paper_and_its_users(client: TestClient) -> None:
    events = everything(client, "&technique=grouped-query-attention")
    proposal = next(e for e in events if e["kind"] == "technique")
    assert proposal["date"] == "2023-05-22"
    assert proposal["title"] == "Grouped-query attention proposed"
    assert proposal["entity"]["url"] == "/techniques/grouped-query-attention"
    papers = [e["entity"]["slug"] for e in events if e["kind"] == "paper"]
    assert papers == ["arxiv-2305.13245"]
    models = [e["entity"]["slug"] for e in events if e["kind"] == "model"]
    assert models[:4] == ["llama-2", "mistral-7b", "mixtral-8x7b", "llama-3"]
    assert "llama" not in models  # sourced as not using it


def test_techniques_without_a_proposing_paper_have_no_event(client: TestClient) -> None:
    proposals = {e["entity"]["slug"] for e in everything(client, "&kind=technique")}
    assert "multi-head-latent-attention" in proposals
    assert "logit-soft-capping" not in proposals
    events = everything(client, "&technique=logit-soft-capping")
    assert keys(events) == [("model", "gemma-2")]


def test_a_date_known_to_the_month_says_so(client: TestClient) -> None:
    events = everything(client, "&kind=technique&from=2019-10&to=2019-10")
    rmsnorm = next(e for e in events if e["entity"]["slug"] == "rmsnorm")
    assert rmsnorm["date"] == "2019-10"
    assert rmsnorm["date_precision"] == "month"


def test_unknown_kind_is_a_422_naming_kind(client: TestClient) -> None:
    assert_problem(client.get("/timeline?kind=model,bogus"), 422, "kind")


def test_bad_dates_are_422s_naming_the_parameter(client: TestClient) -> None:
    assert_problem(client.get("/timeline?from=2024-13-01"), 422, "from")
    assert_problem(client.get("/timeline?to=yesterday"), 422, "to")
    assert_problem(client.get("/timeline?from=2024&to=2023"), 422, "to")


def test_bad_paging_and_grouping_are_422s(client: TestClient) -> None:
    assert_problem(client.get("/timeline?cursor=not-a-cursor"), 422, "cursor")
    # Well formed, but of no kind the timeline has: refused, not turned into SQL.
    forged = base64.urlsafe_b64encode(b'["2024-01-01","meme","x"]').decode().rstrip("=")
    assert_problem(client.get(f"/timeline?cursor={forged}"), 422, "cursor")
    assert_problem(client.get("/timeline?limit=501"), 422, "limit")
    assert_problem(client.get("/timeline?order=sideways"), 422, "order")
    assert_problem(client.get("/timeline?group=week"), 422, "group")
    first = client.get("/timeline?limit=1").json()["next"]
    cursor = first.split("cursor=")[1]
    assert_problem(client.get(f"/timeline?group=year&cursor={cursor}"), 422, "cursor")


def test_answers_match_their_documented_shapes(client: TestClient) -> None:
    Page[TimelineEvent].model_validate(client.get("/timeline?limit=500").json())
    TimelineGroups.model_validate(client.get("/timeline?group=month").json())
