"""Shaping results: include, fields, group_by, CSV and NDJSON, and the paging contract."""

import csv
import io
import itertools
import json

import pytest
from starlette.testclient import TestClient

from api import listing
from api.queries import collections
from tests.helpers import assert_problem

COLLECTIONS = ["/labs", "/papers", "/models", "/techniques", "/slides"]


def walk(client: TestClient, url: str) -> list[dict[str, object]]:
    """Every item of a listing, following `next` (and checking the Link header agrees)."""
    items: list[dict[str, object]] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        if body["next"]:
            assert response.headers["link"] == f'<{body["next"]}>; rel="next"'
        url = body["next"]
    return items


@pytest.mark.parametrize("collection", COLLECTIONS)
@pytest.mark.parametrize("limit", [1, 4])
def test_walking_every_page_returns_every_row_once(
    client: TestClient, collection: str, limit: int
) -> None:
    everything = client.get(f"{collection}?limit=500").json()["items"]
    paged = walk(client, f"{collection}?limit={limit}")
    assert paged == everything
    assert len({json.dumps(item, sort_keys=True) for item in paged}) == len(everything)


@pytest.mark.parametrize(
    "url",
    [
        "/models?sort=-parameters,name&limit=3",
        "/models?sort=context_length&limit=2",
        "/techniques?sort=-proposed_date&limit=5",
        "/papers?sort=-published_date&limit=4",
        "/labs?sort=-country&limit=2",
    ],
)
def test_keyset_paging_with_nulls_and_descending_sorts(client: TestClient, url: str) -> None:
    everything = client.get(url.rsplit("&limit", 1)[0] + "&limit=500").json()["items"]
    assert walk(client, url) == everything


def test_sort_orders_nulls_last_ascending(client: TestClient) -> None:
    params = [m["parameters"] for m in client.get("/models?sort=parameters").json()["items"]]
    known = [p for p in params if p is not None]
    assert params[: len(known)] == sorted(known)
    assert params[len(known) :] == [None] * (len(params) - len(known)) != []
    descending = [m["parameters"] for m in client.get("/models?sort=-parameters").json()["items"]]
    assert descending == list(reversed(params))


def test_include_expands_in_one_query_per_kind(client: TestClient) -> None:
    item = client.get("/models?lab=deepseek&include=lab,paper,techniques,derived_from").json()[
        "items"
    ][1]
    assert item["slug"] == "deepseek-v3"
    assert item["lab"]["kind"] == "industry"
    assert item["paper"]["arxiv_id"] == "2412.19437" and item["paper"]["authors"]
    assert item["derived_from"]["slug"] == "deepseek-v2" and "parameters" in item["derived_from"]
    roles = {t["slug"]: t["role"] for t in item["techniques"]}
    assert roles["multi-head-latent-attention"] == "uses"
    with_sources = client.get("/models?lab=meta&include=sources&limit=1").json()["items"][0]
    assert any(s["kind"] == "slide" for s in with_sources["sources"])


def test_fields_with_dot_paths(client: TestClient) -> None:
    items = client.get("/models?lab=meta&fields=slug,lab.slug,release_date").json()["items"]
    assert items[0] == {"slug": "llama", "lab": {"slug": "meta"}, "release_date": "2023-02-24"}
    assert_problem(client.get("/models?fields=slug,bogus"), 422, "fields")


def test_group_by_gives_exact_counts(client: TestClient) -> None:
    by_lab = client.get("/models?group_by=lab").json()["items"]
    assert {b["key"]: b["count"] for b in by_lab}["meta"] == 4
    assert sum(b["count"] for b in by_lab) == 14
    per_year = client.get("/techniques?group_by=year").json()["items"]
    assert sum(b["count"] for b in per_year) == 23
    categories = {
        b["key"]: b["count"] for b in client.get("/techniques?group_by=category").json()["items"]
    }
    assert categories["attention"] >= 5
    assert_problem(client.get("/models?group_by=colour"), 422, "group_by")


def test_csv_and_ndjson_stream_the_same_rows(client: TestClient) -> None:
    as_json = client.get("/models?fields=slug,lab.slug,parameters&limit=500").json()["items"]
    response = client.get("/models?fields=slug,lab.slug,parameters&format=csv&limit=2")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["slug"] for r in rows] == [m["slug"] for m in as_json]
    assert rows[0]["lab.slug"] == as_json[0]["lab"]["slug"]
    accepted = client.get("/models?fields=slug", headers={"Accept": "application/x-ndjson"})
    lines = [json.loads(line) for line in accepted.text.splitlines()]
    assert [line["slug"] for line in lines] == [m["slug"] for m in as_json]


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/models?sort=bogus", "sort"),
        ("/models?sort=name,name", "sort"),
        ("/models?limit=0", "limit"),
        ("/models?limit=501", "limit"),
        ("/models?from=2024-13-01", "from"),
        ("/papers?to=yesterday", "to"),
        ("/models?include=everything", "include"),
        ("/models?cursor=not-a-cursor", "cursor"),
        ("/models?min_parameters=-1", "min_parameters"),
        ("/models?open_weights=maybe", "open_weights"),
        ("/models?role=invented&technique=rope", "role"),
        ("/labs?kind=government", "kind"),
        ("/models?format=xml", "format"),
    ],
)
def test_bad_parameters_are_422_problems_naming_the_parameter(
    client: TestClient, url: str, param: str
) -> None:
    assert_problem(client.get(url), 422, param)


def test_a_cursor_from_another_sort_is_refused(client: TestClient) -> None:
    cursor = client.get("/models?limit=1").json()["next"].split("cursor=")[1]
    assert_problem(client.get(f"/models?sort=-parameters,name&cursor={cursor}"), 422, "cursor")


def test_every_sort_order_answers_the_same_rows_and_the_statement_cache_stays_bounded(
    client: TestClient,
) -> None:
    # Sorted selects are kept per order, up to a bound; orders beyond it are built per request.
    fields = ["release_date", "name", "parameters", "context_length"]
    orders = [
        ",".join(("-" if i in signs else "") + name for i, name in enumerate(permutation))
        for permutation in itertools.permutations(fields)
        for signs in ((), (0,), (1, 3), (0, 1, 2, 3))
    ]
    assert len(set(orders)) > listing.SORTED_CACHE_SIZE
    everything = {item["slug"] for item in walk(client, "/models?limit=500")}
    for order in orders:
        page = client.get(f"/models?sort={order}&limit=500")
        assert page.status_code == 200, (order, page.text)
        assert {item["slug"] for item in page.json()["items"]} == everything
    assert len(collections.MODELS._sorted) == listing.SORTED_CACHE_SIZE
