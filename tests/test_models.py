"""GET /models/{slug}: the model with its lab, paper, techniques and sources."""

from starlette.testclient import TestClient

from tests.helpers import assert_problem


def test_deepseek_v2_introduced_multi_head_latent_attention(client: TestClient) -> None:
    response = client.get("/models/deepseek-v2")
    assert response.status_code == 200
    model = response.json()
    assert model["lab"] == {"slug": "deepseek", "name": "DeepSeek", "url": "/labs/deepseek"}
    assert model["paper"]["arxiv_id"] == "2405.04434"
    assert model["parameters"] == 236_000_000_000
    assert model["active_parameters"] == 21_000_000_000
    techniques = {t["slug"]: t for t in model["techniques"]}
    mla = techniques["multi-head-latent-attention"]
    assert mla["role"] == "introduced"
    slide = next(s for s in mla["sources"] if s["kind"] == "slide")
    assert slide["slide"] == 9
    assert slide["title"] == "DeepSeek: Efficiency at extreme scale"
    assert "compress the AI's memory" in slide["quote"]
    assert techniques["deepseekmoe"]["role"] == "uses"


def test_mistral_7b_uses_but_did_not_introduce_its_attention_tricks(client: TestClient) -> None:
    model = client.get("/models/mistral-7b").json()
    roles = {t["slug"]: t["role"] for t in model["techniques"]}
    assert roles["sliding-window-attention"] == "uses"
    assert roles["grouped-query-attention"] == "uses"
    assert "introduced" not in roles.values()


def test_sources_carry_the_slide_and_the_exact_fact(client: TestClient) -> None:
    model = client.get("/models/llama-3-1").json()
    assert model["parameters"] == 405_000_000_000
    about_parameters = [s for s in model["sources"] if s["about"] == "parameters"]
    slide = next(s for s in about_parameters if s["kind"] == "slide")
    assert "405B" in slide["quote"] and slide["note"]
    assert any(s["kind"] == "reference" for s in about_parameters)
    assert model["release_date"] == "2024-07-23" and model["date_precision"] == "day"
    assert model["derived_from"]["slug"] == "llama-3"


def test_unknown_model_is_a_problem_with_suggestions(client: TestClient) -> None:
    body = assert_problem(client.get("/models/deepseek-v4"), 404)
    assert "deepseek-v2" in body["suggestions"]
    assert "deepseek-v2" in body["detail"]


def test_etag_and_not_modified(client: TestClient) -> None:
    first = client.get("/models/llama")
    etag = first.headers["etag"]
    again = client.get("/models/llama", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get("/models/llama-2", headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_large_responses_are_gzipped_on_request(client: TestClient) -> None:
    response = client.get("/models/deepseek-v3", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("content-encoding") == "gzip"
    assert response.json()["slug"] == "deepseek-v3"
