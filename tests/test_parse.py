"""The deck parser, on the chapter's own deck."""

from seed import DECK_PATH
from seed.parse import parse_deck, plain_text


def test_splits_the_deck_into_its_fourteen_slides() -> None:
    deck = parse_deck(DECK_PATH)
    assert deck.title == "4. Open-Source LLM Milestones"
    assert len(deck.slides) == 14
    assert deck.slide(3).title == "LLaMA: Opening the gates"  # type: ignore[union-attr]
    assert deck.slide(12).title == "Chapter 4 Summary"  # type: ignore[union-attr]
    assert len(deck.sha256) == 64


def test_arxiv_links_become_papers_with_the_year_the_slide_gives() -> None:
    deck = parse_deck(DECK_PATH)
    links = {(p.arxiv_id, p.year) for s in deck.slides for p in s.papers}
    assert ("2302.13971", 2023) in links
    assert ("2401.04088", 2024) in links
    # "[R1](…) (2024-2025)" names a range, not a year of R1.
    assert ("2501.12948", None) in links
    assert len({arxiv_id for arxiv_id, _ in links}) == 10


def test_reads_the_summary_table_resources_and_questions() -> None:
    deck = parse_deck(DECK_PATH)
    summary = [i for i in deck.slide(12).items if i.kind == "summary"]  # type: ignore[union-attr]
    assert len(summary) == 6
    assert summary[1].arxiv_ids == ("2307.09288", "2407.21783")
    assert summary[1].detail == "Open-source + safety alignment"
    resources = deck.slide(13).items  # type: ignore[union-attr]
    assert [r.kind for r in resources] == ["resource"] * 4
    assert resources[1].url == "https://huggingface.co/blog/moe"
    assert resources[1].detail == "Visual guide to how MoE works"
    questions = deck.slide(14).items  # type: ignore[union-attr]
    assert len(questions) == 4 and all(q.kind == "question" for q in questions)


def test_quotes_match_as_written_or_as_plain_text() -> None:
    slide = parse_deck(DECK_PATH).slide(6)
    assert slide is not None
    assert slide.contains("Used **Grouped-Query Attention**")
    assert slide.contains("Used Grouped-Query Attention")
    assert not slide.contains("Invented Grouped-Query Attention")
    assert plain_text("[LLaMA](https://arxiv.org/abs/2302.13971) **big**") == "LLaMA big"
