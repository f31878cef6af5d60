"""The seeded graph: counts, precise facts, provenance, idempotence and all-or-nothing loading."""

from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session

from api import migrate
from api.queries import stats as stats_queries
from models import LanguageModel, Source
from seed import OVERLAY_PATH
from seed import load as seed_load
from seed.load import seed_database
from seed.plan import SeedError


def scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def test_counts_meet_the_chapter(seeded_engine: Engine) -> None:
    with Session(seeded_engine) as session:
        counts = stats_queries.graph_counts(session)
    entities = counts["entities"]
    assert entities["models"] >= 12
    assert entities["labs"] == 6
    assert entities["techniques"] >= 10
    assert entities["slides"] == 14 and entities["decks"] == 1
    deck_papers = scalar(
        seeded_engine,
        "SELECT count(DISTINCT entity_id) FROM slide_mention WHERE entity_kind = 'paper'",
    )
    assert deck_papers == 10
    origin_papers = scalar(seeded_engine, "SELECT count(DISTINCT proposed_in_id) FROM technique")
    assert entities["papers"] >= 10 + int(origin_papers) - 3  # a few origins are deck papers


@pytest.mark.parametrize(
    ("model", "lab", "arxiv_id"),
    [
        ("llama", "meta", "2302.13971"),
        ("deepseek-v2", "deepseek", "2405.04434"),
        ("mixtral-8x7b", "mistral-ai", "2401.04088"),
        ("gemma-2", "google-deepmind", "2408.00118"),
    ],
)
def test_models_are_linked_to_lab_and_paper(
    seeded_engine: Engine, model: str, lab: str, arxiv_id: str
) -> None:
    row = scalar(
        seeded_engine,
        "SELECT l.slug || ' ' || p.arxiv_id FROM model m JOIN lab l ON l.id = m.lab_id"
        " JOIN paper p ON p.id = m.paper_id WHERE m.slug = :slug",
        slug=model,
    )
    assert row == f"{lab} {arxiv_id}"


def test_precise_facts_where_the_deck_is_loose(seeded_engine: Engine) -> None:
    with Session(seeded_engine) as session:
        by_slug = {m.slug: m for m in session.exec(select(LanguageModel)).scalars()}
    assert by_slug["mixtral-8x7b"].parameters == 46_700_000_000
    assert by_slug["mixtral-8x7b"].active_parameters == 12_900_000_000
    assert by_slug["llama-3-1"].parameters == 405_000_000_000
    assert by_slug["llama-3"].parameters == 70_000_000_000  # April 2024: 8B and 70B only
    assert by_slug["deepseek-v3"].parameters == 671_000_000_000
    assert str(by_slug["llama"].release_date) == "2023-02-24"
    # The slide's own words stay, as a source with a note saying what is exact.
    note = scalar(
        seeded_engine,
        "SELECT s.note FROM source s JOIN model m ON m.id = s.subject_id"
        " WHERE s.subject_kind = 'model' AND m.slug = 'mixtral-8x7b'"
        " AND s.predicate = 'parameters' AND s.kind = 'slide'",
    )
    assert note and "46.7B" in str(note)


@pytest.mark.parametrize(
    ("model", "derivation", "parent"),
    [
        ("mixtral-8x7b", "architecture", "mistral-7b"),
        ("llama-2", "successor", "llama"),
        ("deepseek-r1", "weights", "deepseek-v3"),
        ("deepseek-r1-zero", "weights", "deepseek-v3"),
    ],
)
def test_lineage_kinds(seeded_engine: Engine, model: str, derivation: str, parent: str) -> None:
    row = scalar(
        seeded_engine,
        "SELECT m.derivation || ' ' || p.slug FROM model m JOIN model p ON p.id = m.derived_from_id"
        " WHERE m.slug = :slug",
        slug=model,
    )
    assert row == f"{derivation} {parent}"


ROLE_SQL = """
SELECT CASE WHEN mt.relation = 'uses' AND t.proposed_in_id = m.paper_id THEN 'introduced'
            ELSE mt.relation END
FROM model_technique mt JOIN model m ON m.id = mt.model_id
JOIN technique t ON t.id = mt.technique_id
WHERE m.slug = :model AND t.slug = :technique
"""


@pytest.mark.parametrize(
    ("model", "technique", "role"),
    [
        ("deepseek-v2", "multi-head-latent-attention", "introduced"),
        ("deepseek-v3", "multi-head-latent-attention", "uses"),
        ("mistral-7b", "sliding-window-attention", "uses"),
        ("mistral-7b", "grouped-query-attention", "uses"),
        ("llama-2", "grouped-query-attention", "uses"),
        ("llama-2", "ghost-attention", "introduced"),
        ("gemma-2", "knowledge-distillation", "uses"),
        ("deepseek-r1-zero", "pure-rl-reasoning", "introduced"),
        ("mixtral-8x7b", "sliding-window-attention", "does_not_use"),
        ("llama", "grouped-query-attention", "does_not_use"),
    ],
)
def test_introduced_versus_uses(
    seeded_engine: Engine, model: str, technique: str, role: str
) -> None:
    assert scalar(seeded_engine, ROLE_SQL, model=model, technique=technique) == role


def test_techniques_are_proposed_in_their_earliest_paper(seeded_engine: Engine) -> None:
    sql = (
        "SELECT p.arxiv_id FROM technique t JOIN paper p ON p.id = t.proposed_in_id"
        " WHERE t.slug = :slug"
    )
    assert scalar(seeded_engine, sql, slug="grouped-query-attention") == "2305.13245"
    assert scalar(seeded_engine, sql, slug="sliding-window-attention") == "1904.10509"
    assert scalar(seeded_engine, sql, slug="multi-head-latent-attention") == "2405.04434"
    # Unverified origins are not asserted.
    assert scalar(seeded_engine, sql, slug="logit-soft-capping") is None
    refines = scalar(
        seeded_engine,
        "SELECT r.slug FROM technique t JOIN technique r ON r.id = t.refines_id"
        " WHERE t.slug = 'grouped-query-attention'",
    )
    assert refines == "multi-query-attention"


RELATIONS_WITHOUT_SOURCE = {
    "developed_by": "SELECT m.id FROM model m WHERE m.lab_id IS NOT NULL AND NOT EXISTS ("
    "SELECT 1 FROM source s WHERE s.subject_kind = 'model' AND s.subject_id = m.id"
    " AND s.predicate = 'developed_by' AND s.object_id = m.lab_id)",
    "described_in": "SELECT m.id FROM model m WHERE m.paper_id IS NOT NULL AND NOT EXISTS ("
    "SELECT 1 FROM source s WHERE s.subject_kind = 'model' AND s.subject_id = m.id"
    " AND s.predicate = 'described_in' AND s.object_id = m.paper_id)",
    "derived_from": "SELECT m.id FROM model m WHERE m.derived_from_id IS NOT NULL AND NOT EXISTS ("
    "SELECT 1 FROM source s WHERE s.subject_kind = 'model' AND s.subject_id = m.id"
    " AND s.predicate = 'derived_from' AND s.object_id = m.derived_from_id)",
    "uses": "SELECT mt.model_id FROM model_technique mt WHERE NOT EXISTS ("
    "SELECT 1 FROM source s WHERE s.subject_kind = 'model' AND s.subject_id = mt.model_id"
    " AND s.object_kind = 'technique' AND s.object_id = mt.technique_id)",
    "proposed_in": "SELECT t.id FROM technique t"
    " WHERE t.proposed_in_id IS NOT NULL AND NOT EXISTS ("
    "SELECT 1 FROM source s WHERE s.subject_kind = 'technique' AND s.subject_id = t.id"
    " AND s.predicate = 'proposed_in' AND s.object_id = t.proposed_in_id)",
    "refines": "SELECT t.id FROM technique t WHERE t.refines_id IS NOT NULL AND NOT EXISTS ("
    "SELECT 1 FROM source s WHERE s.subject_kind = 'technique' AND s.subject_id = t.id"
    " AND s.predicate = 'refines' AND s.object_id = t.refines_id)",
    "published_by": "SELECT p.id FROM paper p WHERE p.lab_id IS NOT NULL AND NOT EXISTS ("
    "SELECT 1 FROM source s WHERE s.subject_kind = 'paper' AND s.subject_id = p.id"
    " AND s.predicate = 'published_by' AND s.object_id = p.lab_id)",
}


@pytest.mark.parametrize("relation", sorted(RELATIONS_WITHOUT_SOURCE))
def test_every_relation_has_a_source(seeded_engine: Engine, relation: str) -> None:
    with seeded_engine.connect() as connection:
        unsourced = connection.execute(text(RELATIONS_WITHOUT_SOURCE[relation])).all()
    assert unsourced == []


def test_slide_quotes_are_verbatim_on_their_slides(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as connection:
        rows = connection.execute(
            text("SELECT s.quote, sl.body FROM source s JOIN slide sl ON sl.id = s.slide_id")
        ).all()
    from seed.parse import plain_text

    assert len(rows) > 100
    for quote, body in rows:
        assert quote in body or " ".join(quote.split()) in plain_text(body), quote


def snapshot(engine: Engine) -> dict[str, object]:
    tables = [
        "lab",
        "paper",
        "model",
        "technique",
        "model_technique",
        "source",
        "slide",
        "slide_mention",
        "slide_item",
        "deck",
    ]
    with engine.connect() as connection:
        state: dict[str, object] = {
            t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables
        }
        state["version"] = connection.execute(text("SELECT version FROM data_version")).scalar()
        state["updated"] = connection.execute(text("SELECT max(updated_at) FROM model")).scalar()
    return state


def test_seeding_twice_changes_nothing(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    first = seed_database(empty_engine)
    assert first.changed and first.data_version == 1
    before = snapshot(empty_engine)
    again = seed_database(empty_engine)
    assert not again.changed
    assert again.data_version == 1
    assert snapshot(empty_engine) == before


def test_a_wrong_quote_fails_the_seed_and_names_fact_and_slide(
    empty_engine: Engine, tmp_path: Path
) -> None:
    migrate.upgrade(empty_engine)
    seed_database(empty_engine)
    before = snapshot(empty_engine)
    overlay = yaml.safe_load(OVERLAY_PATH.read_text())
    mixtral = next(m for m in overlay["models"] if m["slug"] == "mixtral-8x7b")
    fact = next(f for f in mixtral["facts"] if f["about"] == "parameters")
    slide_source = next(s for s in fact["sources"] if "slide" in s)
    slide_source["quote"] = "Total parameters: 56B"
    broken = tmp_path / "overlay.yaml"
    broken.write_text(yaml.safe_dump(overlay, allow_unicode=True))
    with pytest.raises(SeedError) as error:
        seed_database(empty_engine, overlay_path=broken)
    message = str(error.value)
    assert "mixtral-8x7b" in message and "parameters" in message
    assert f"slide {slide_source['slide']}" in message and "56B" in message
    assert snapshot(empty_engine) == before


def test_a_failure_mid_write_leaves_the_database_as_it_was(
    empty_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate.upgrade(empty_engine)

    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(seed_load, "_write_sources", explode)
    with pytest.raises(RuntimeError):
        seed_database(empty_engine)
    with Session(empty_engine) as session:
        assert session.execute(select(func.count()).select_from(LanguageModel)).scalar() == 0
        assert session.execute(select(func.count()).select_from(Source)).scalar() == 0
        assert stats_queries.data_version(session) == 0
