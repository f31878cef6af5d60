"""Ingest a further deck: its slides, its arXiv links and the overlay facts quoted from it.

The same parser, planner and writer as the seed (seed/parse.py, plan.py, load.py), without the
reference file, and aware of what the database holds: an arXiv link to a stored paper links it
(a source and a slide mention), never duplicates it; an overlay entry about a stored entity
changes only the fields it states. Every overlay quote is checked against its slide, and any
failure refuses the whole deck. Re-ingesting the same deck changes nothing; a changed deck
updates its slides. Created and updated entities get change rows at the new data version.
"""

import hashlib
from functools import cache
from pathlib import PurePath
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlmodel import Session

from api.errors import ApiError, Conflict
from api.queries import transfer
from models import tables as t
from models.base import utc_now
from seed import DECK_PATH
from seed.load import SeedReport, write_plan
from seed.overlay import Overlay
from seed.parse import SLIDE_SEPARATOR, ParsedDeck, parse_deck, parse_slide, slugify
from seed.plan import Known, SeedError, build_plan

ENTITY_TABLES = {"lab": t.lab, "paper": t.paper, "model": t.model, "technique": t.technique}
PLURAL = {"deck": "decks", "slide": "slides", "lab": "labs", "paper": "papers",
          "model": "models", "technique": "techniques"}  # fmt: skip


class InvalidDeck(ApiError):
    """The deck or its overlay cannot be ingested; `detail` names the part, fact and slide."""

    status = 422
    title = "Invalid deck"
    type = "invalid-deck"

    def __init__(self, part: str, detail: str) -> None:
        super().__init__(f"{part}: {detail}", part=part)


@cache
def seed_deck_slug() -> str:
    return parse_deck(DECK_PATH).slug


def read_deck(data: bytes, file_name: str) -> ParsedDeck:
    """A deck from the bytes of its markdown (slides split on `----` lines, as the seed's)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidDeck("deck", f"not UTF-8 text ({error.reason})") from error
    if not text.strip():
        raise InvalidDeck("deck", "the file is empty")
    slides = [parse_slide(n, raw) for n, raw in enumerate(SLIDE_SEPARATOR.split(text), start=1)]
    name = PurePath(file_name or "deck.md").name
    title = slides[0].title
    return ParsedDeck(
        slug=slugify(title) or slugify(PurePath(name).stem),
        title=title,
        file_name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        slides=slides,
    )


def read_overlay(data: bytes | None) -> Overlay:
    """The overlay (YAML, the seed's format), or an empty one."""
    if not data:
        return Overlay()
    try:
        return Overlay.model_validate(yaml.safe_load(data) or {})
    except yaml.YAMLError as error:
        raise InvalidDeck("overlay", f"not valid YAML: {error}") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidDeck("overlay", f"{where}: {first['msg']}") from error


def known(session: Session, origin: str) -> Known:
    """Every stored entity by slug, papers by arXiv id, and the columns the overlay checks use.

    Entities this deck created itself (`created_by` is its origin) are planned in full again,
    exactly as on its first ingest, so a re-ingest finds nothing to change.
    """
    slugs: dict[str, frozenset[str]] = {}
    owned: set[tuple[str, str]] = set()
    for kind, table in ENTITY_TABLES.items():
        rows = session.execute(select(table.c.slug, table.c.created_by)).all()
        slugs[kind] = frozenset(slug for slug, _ in rows)
        owned |= {(kind, slug) for slug, by in rows if by == origin}
    paper = t.paper
    stmt = select(paper.c.arxiv_id, paper.c.slug).where(paper.c.arxiv_id.is_not(None))
    arxiv = {str(a): str(s) for a, s in session.execute(stmt) if ("paper", s) not in owned}
    values: dict[tuple[str, str, str], Any] = {}
    for kind, columns in (("model", ("paper", "derivation")), ("technique", ("proposed_in",))):
        for row in session.execute(transfer.entity_select(kind)).mappings():
            for column in columns:
                values[(kind, row["slug"], column)] = row[column]
    return Known(slugs=slugs, arxiv=arxiv, values=values, origin=origin, owned=frozenset(owned))


def ingest(
    session: Session, deck: ParsedDeck, overlay: Overlay, *, key: str | None = None
) -> dict[str, Any]:
    """Store the deck and its facts in the caller's transaction; a report of what changed."""
    if deck.slug == seed_deck_slug():
        # Its facts come from the reference file too: an ingest without it would drop them.
        raise Conflict(
            f"The deck {deck.slug!r} is the seed deck: load it with `paperkg seed`, which adds"
            " its reference facts."
        )
    try:
        plan = build_plan(deck, overlay, None, known(session, f"seed:{deck.slug}"))
    except SeedError as error:
        raise InvalidDeck("overlay", str(error)) from error
    report = write_plan(session, plan)
    if report.changed:
        _record_changes(session, report, key)
    return describe(report)


def _record_changes(session: Session, report: SeedReport, key: str | None) -> None:
    rows: list[tuple[str, str, str]] = []
    for kind, table in ENTITY_TABLES.items():
        created = set(report.created.get(kind, []))
        ids = [i for k, i in report.touched if k == kind]
        touched = set(report.updated.get(kind, []))
        if ids:
            stmt = select(table.c.slug).where(table.c.id.in_(ids))
            touched |= set(session.execute(stmt).scalars())
        rows += [(kind, slug, "created") for slug in sorted(created)]
        rows += [(kind, slug, "updated") for slug in sorted(touched - created)]
    if rows:
        now = utc_now()
        session.execute(
            insert(t.change),
            [{"version": report.data_version, "kind": k, "slug": s, "operation": o,
              "key_name": key, "at": now} for k, s, o in rows],
        )  # fmt: skip


def describe(report: SeedReport) -> dict[str, Any]:
    """The report as the API and the CLI show it."""

    def named(by_table: dict[str, list[str]]) -> dict[str, list[Any]]:
        return {
            PLURAL[table]: sorted(int(v) for v in values) if table == "slide" else sorted(values)
            for table, values in by_table.items()
            if table in PLURAL
        }

    return {
        "deck": report.deck,
        "data_version": report.data_version,
        "changed": report.changed,
        "created": named(report.created),
        "updated": named(report.updated),
        "rows": dict(sorted(report.changes.items())),
    }
