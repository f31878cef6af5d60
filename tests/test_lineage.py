"""GET /models/{slug}/lineage: ancestors and descendants at any depth."""

from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from api import migrate
from api.queries import lineage as lineage_queries
from models import tables as t
from models.timeline import Lineage
from seed.load import seed_database
from tests.helpers import assert_problem


def chain(entries: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(e["slug"], e["depth"]) for e in entries]


def test_mixtral_descends_from_mistral_7b_llama_2_and_llama(client: TestClient) -> None:
    response = client.get("/models/mixtral-8x7b/lineage")
    assert response.status_code == 200
    body = response.json()
    assert body["model"]["slug"] == "mixtral-8x7b"
    assert body["model"]["url"] == "/models/mixtral-8x7b"
    assert chain(body["ancestors"]) == [("mistral-7b", 1), ("llama-2", 2), ("llama", 3)]
    assert body["ancestors"][0]["derivation"] == "architecture"
    assert body["ancestors"][0]["release_date"] == "2023-09-27"
    assert body["ancestors"][2]["derivation"] == "successor"  # Llama 2 succeeded LLaMA
    assert body["descendants"] == []


def test_llamas_descendants_at_every_depth(client: TestClient) -> None:
    body = client.get("/models/llama/lineage").json()
    assert body["ancestors"] == []
    found = {e["slug"]: e for e in body["descendants"]}
    assert (found["llama-2"]["depth"], found["llama-2"]["derivation"]) == (1, "successor")
    assert found["llama-3"]["depth"] == 2
    assert (found["mistral-7b"]["depth"], found["mistral-7b"]["derivation"]) == (2, "architecture")
    assert found["mixtral-8x7b"]["depth"] == 3
    assert found["mixtral-8x7b"]["parent"] == "mistral-7b"
    assert found["llama-3-1"]["parent"] == "llama-3"
    depths = [e["depth"] for e in body["descendants"]]
    assert depths == sorted(depths)


def test_a_model_in_the_middle_has_both(client: TestClient) -> None:
    body = client.get("/models/deepseek-v3/lineage").json()
    assert chain(body["ancestors"]) == [("deepseek-v2", 1)]
    assert chain(body["descendants"]) == [("deepseek-r1", 1), ("deepseek-r1-zero", 1)]
    assert {e["derivation"] for e in body["descendants"]} == {"weights"}


def test_unknown_model_lineage_is_a_404_with_suggestions(client: TestClient) -> None:
    body = assert_problem(client.get("/models/mixtrel/lineage"), 404)
    assert "mixtral-8x7b" in body["suggestions"]


def test_a_cycle_ends_at_the_depth_cap_and_lists_each_model_once(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    seed_database(empty_engine)
    m = t.model
    with empty_engine.begin() as connection:
        # Only a self-reference is forbidden by the schema: LLaMA -> Mixtral closes a loop.
        mixtral = select(m.c.id).where(m.c.slug == "mixtral-8x7b").scalar_subquery()
        connection.execute(update(m).where(m.c.slug == "llama").values(derived_from_id=mixtral))
    with Session(empty_engine) as session:
        body = lineage_queries.lineage(session, "llama")
    assert chain(body["ancestors"]) == [("mixtral-8x7b", 1), ("mistral-7b", 2), ("llama-2", 3)]
    found = chain(body["descendants"])
    assert ("mixtral-8x7b", 3) in found and ("llama-3-1", 3) in found
    assert "llama" not in {slug for slug, _ in found}
    assert len(found) == len({slug for slug, _ in found})


def test_answers_match_their_documented_shape(client: TestClient) -> None:
    for model in ("llama", "mixtral-8x7b", "deepseek-v3", "qwen3"):
        Lineage.model_validate(client.get(f"/models/{model}/lineage").json())
