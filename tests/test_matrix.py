"""GET /matrix, the adoption matrix, and `as_of` on /matrix, /timeline and introduced-by."""

import csv
import io
from typing import Any

import pytest
from starlette.testclient import TestClient

from models.graph import AdoptionMatrix
from tests.helpers import assert_problem, counted_statements


def matrix(client: TestClient, query: str = "") -> dict[str, Any]:
    response = client.get(f"/matrix{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = AdoptionMatrix.model_validate(response.json()).model_dump()
    return body


def cell(body: dict[str, Any], row: str, column: str) -> str | None:
    i = [r["slug"] for r in body["rows"]].index(row)
    j = [c["slug"] for c in body["columns"]].index(column)
    value: str | None = body["cells"][i][j]
    return value


def test_one_row_per_model_one_column_per_technique(client: TestClient) -> None:
    body = matrix(client)
    assert len(body["rows"]) == 14 and len(body["columns"]) == 23
    assert len(body["cells"]) == 14 and all(len(row) == 23 for row in body["cells"])
    dates = [r["release_date"] for r in body["rows"]]
    assert dates == sorted(dates)
    assert cell(body, "deepseek-v2", "multi-head-latent-attention") == "introduced"
    assert cell(body, "deepseek-v3", "multi-head-latent-attention") == "uses"
    assert cell(body, "llama", "multi-head-latent-attention") is None
    # A sourced "does not use" is not a cell.
    assert cell(body, "mixtral-8x7b", "sliding-window-attention") is None
    filled = sum(1 for row in body["cells"] for value in row if value)
    assert filled == len(body["evidence"]) == 61


def test_each_filled_cell_carries_its_evidence(client: TestClient) -> None:
    body = matrix(client, "?lab=deepseek")
    assert [r["slug"] for r in body["rows"]] == [
        "deepseek-v2", "deepseek-v3", "deepseek-r1", "deepseek-r1-zero",
    ]  # fmt: skip
    evidence = {(e["row"], e["column"]): e for e in body["evidence"]}
    mla = evidence[("deepseek-v2", "multi-head-latent-attention")]
    assert mla["value"] == "introduced"
    assert any(s["kind"] == "slide" and s["slide"] == 9 for s in mla["sources"])
    assert all(e["sources"] for e in body["evidence"])


def test_filters_dense_and_transpose(client: TestClient) -> None:
    attention = matrix(client, "?category=attention&dense=true&from=2023&to=2023")
    assert {c["category"] for c in attention["columns"]} == {"attention"}
    assert {r["release_date"][:4] for r in attention["rows"]} == {"2023"}
    assert all(any(row) for row in attention["cells"])
    straight = matrix(client, "?category=attention&from=2023&to=2023")
    flipped = matrix(client, "?rows=techniques&cols=models&category=attention&from=2023&to=2023")
    assert flipped["cells"] == [list(column) for column in zip(*straight["cells"], strict=True)]
    assert {e["row"] for e in flipped["evidence"]} <= {r["slug"] for r in flipped["rows"]}


def test_csv_has_the_technique_slugs_as_header(client: TestClient) -> None:
    response = client.get("/matrix?lab=mistral-ai&format=csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    body = matrix(client, "?lab=mistral-ai")
    assert rows[0] == ["model", "name", "release_date", *(c["slug"] for c in body["columns"])]
    assert [r[0] for r in rows[1:]] == ["mistral-7b", "mixtral-8x7b"]
    assert rows[1][3:] == [value or "" for value in body["cells"][0]]
    accepted = client.get("/matrix?lab=mistral-ai", headers={"Accept": "text/csv"})
    assert accepted.text == response.text


def test_the_matrix_runs_a_fixed_number_of_queries(client: TestClient) -> None:
    with counted_statements(client) as statements:
        assert client.get("/matrix?dense=true&as_of=2025").status_code == 200
    assert len(statements) <= 6, statements


@pytest.mark.parametrize(
    ("query", "param"),
    [("rows=labs", "rows"), ("rows=models&cols=models", "cols"), ("category=fast", "category"),
     ("as_of=yesterday", "as_of"), ("format=xlsx", "format"), ("from=soon", "from")],
)  # fmt: skip
def test_bad_matrix_parameters_are_named(client: TestClient, query: str, param: str) -> None:
    assert_problem(client.get(f"/matrix?{query}"), 422, param)


# --- as_of ---------------------------------------------------------------------------------------


def test_who_had_adopted_grouped_query_attention_in_mid_2024(client: TestClient) -> None:
    response = client.get("/techniques/grouped-query-attention/introduced-by?as_of=2024-06")
    assert response.status_code == 200, response.text
    body = response.json()
    adopters = [a["slug"] for a in body["adopters"]]
    assert adopters == ["llama-2", "mistral-7b", "mixtral-8x7b", "llama-3", "gemma-2"]
    assert body["first_adopter"]["slug"] == "llama-2"
    later = client.get("/techniques/grouped-query-attention/introduced-by").json()
    assert {"llama-3-1", "qwen3"} <= {a["slug"] for a in later["adopters"]}
    grid = matrix(client, "?as_of=2024-06&dense=true")
    column = [
        r["slug"] for r, row in zip(grid["rows"], grid["cells"], strict=True)
        if row[[c["slug"] for c in grid["columns"]].index("grouped-query-attention")]
    ]  # fmt: skip
    assert column == adopters


def test_a_technique_not_yet_proposed_is_not_there(client: TestClient) -> None:
    body = assert_problem(
        client.get("/techniques/grouped-query-attention/introduced-by?as_of=2023-01"), 404
    )
    assert "2023-05-22" in body["detail"]
    grid = matrix(client, "?as_of=2023-01")
    assert "grouped-query-attention" not in {c["slug"] for c in grid["columns"]}
    assert {r["slug"] for r in grid["rows"]} == {"gpt-3"}
    assert_problem(client.get("/techniques/rope/introduced-by?as_of=someday"), 422, "as_of")


def test_the_timeline_as_of_a_date(client: TestClient) -> None:
    events = client.get("/timeline?as_of=2023-07&limit=500").json()["items"]
    assert events and max(e["date"] for e in events) <= "2023-07-31"
    assert ("model", "llama-2") in {(e["kind"], e["entity"]["slug"]) for e in events}
    assert "mistral-7b" not in {e["entity"]["slug"] for e in events}
    narrower = client.get("/timeline?as_of=2024&to=2023-03&limit=500").json()["items"]
    assert max(e["date"] for e in narrower) <= "2023-03-31"
    assert_problem(client.get("/timeline?as_of=2023-13"), 422, "as_of")
