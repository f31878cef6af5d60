"""Write a seed plan: idempotent upserts in one transaction, bumping the data version on change."""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, delete, insert, select, update
from sqlmodel import Session

from api.queries import search as search_queries
from models import tables as t
from models.base import utc_now
from seed import DECK_PATH, OVERLAY_PATH, REFERENCE_PATH
from seed.overlay import Overlay, load_overlay
from seed.parse import Item, ParsedDeck, parse_deck
from seed.plan import Plan, build_plan
from seed.reference import load_reference

SourceKey = tuple[Any, ...]


@dataclass
class SeedReport:
    """What a seed run did, per table: inserted / updated / deleted rows."""

    deck: str = ""
    changes: Counter[str] = field(default_factory=Counter)
    data_version: int = 0
    # Per table, the slugs inserted and updated (slides by number); and the entities whose
    # links, sources or slide mentions changed, as (kind, id).
    created: dict[str, list[str]] = field(default_factory=dict)
    updated: dict[str, list[str]] = field(default_factory=dict)
    touched: set[tuple[str, int]] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return sum(self.changes.values()) > 0


def seed_database(
    engine: Engine,
    *,
    deck_path: Path = DECK_PATH,
    overlay_path: Path | None = OVERLAY_PATH,
    reference_path: Path | None = REFERENCE_PATH,
) -> SeedReport:
    """Load a deck (with its overlay and the reference facts) into the graph, all or nothing."""
    deck = parse_deck(deck_path)
    plan = build_plan(
        deck,
        load_overlay(overlay_path) if overlay_path else Overlay(),
        load_reference(reference_path) if reference_path else None,
    )
    with Session(engine) as session, session.begin():
        return write_plan(session, plan)


def write_plan(session: Session, plan: Plan) -> SeedReport:
    """Upsert everything in `plan` within the caller's transaction."""
    report = SeedReport(deck=plan.deck.slug)
    origin = f"seed:{plan.deck.slug}"
    slide_ids = _write_deck(session, plan.deck, report)
    ids = _known_ids(session, plan)
    by = plan.known.origin
    ids["lab"] |= _upsert(session, t.lab, plan.labs, report, by)
    papers = {s: _resolve(r, ids, lab="lab") for s, r in plan.papers.items()}
    ids["paper"] |= _upsert(session, t.paper, papers, report, by)
    for slug in _parents_first(plan.models, "derived_from"):
        row = _resolve(plan.models[slug], ids, lab="lab", paper="paper", derived_from="model")
        ids["model"] |= _upsert(session, t.model, {slug: row}, report, by)
    for slug in _parents_first(plan.techniques, "refines"):
        row = _resolve(plan.techniques[slug], ids, proposed_in="paper", refines="technique")
        ids["technique"] |= _upsert(session, t.technique, {slug: row}, report, by)
    _write_links(session, plan, ids, report)
    _write_sources(session, plan, ids, slide_ids, origin, report)
    report.changes.update(search_queries.refresh_search_index(session))
    if report.changed:
        dv = t.data_version
        session.execute(update(dv).values(version=dv.c.version + 1, updated_at=utc_now()))
    report.data_version = session.execute(select(t.data_version.c.version)).scalar_one()
    return report


def _known_ids(session: Session, plan: Plan) -> dict[str, dict[str, int]]:
    """slug -> id of the entities already stored that the plan refers to without writing them."""
    ids: dict[str, dict[str, int]] = {}
    for kind, table in (("lab", t.lab), ("paper", t.paper), ("model", t.model),
                        ("technique", t.technique)):  # fmt: skip
        ids[kind] = {}
        if plan.known.slugs.get(kind):
            ids[kind] = {
                str(slug): int(i) for slug, i in session.execute(select(table.c.slug, table.c.id))
            }
    return ids


def _resolve(row: dict[str, Any], ids: dict[str, dict[str, int]], **refs: str) -> dict[str, Any]:
    """Replace slug references (`lab: meta`) by foreign keys (`lab_id: 3`); absent ones stay."""
    out = {k: v for k, v in row.items() if k not in refs}
    for column, kind in refs.items():
        if column not in row:  # a known entity the overlay edits: its other links stay
            continue
        slug = row.get(column)
        out[f"{column}_id"] = ids[kind][slug] if slug is not None else None
    return out


def _parents_first(rows: dict[str, dict[str, Any]], parent: str) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()

    def visit(slug: str) -> None:
        if slug in seen:
            return
        seen.add(slug)
        parent_slug = rows[slug].get(parent)
        if parent_slug in rows:
            visit(parent_slug)
        order.append(slug)

    for slug in sorted(rows):
        visit(slug)
    return order


def _upsert(
    session: Session,
    table: Table,
    rows: dict[str, dict[str, Any]],
    report: SeedReport,
    by: str | None = None,
) -> dict[str, int]:
    """Insert new slugs, update changed columns (and `updated_at`), leave equal rows alone.

    `by` names the writer in `created_by` / `updated_by` (a further deck's ingest: `seed:<deck>`).
    """
    audit = {"created_by": by, "updated_by": by} if by else {}
    if not rows:
        return {}
    existing = {
        row["slug"]: row
        for row in session.execute(select(table).where(table.c.slug.in_(list(rows)))).mappings()
    }
    ids: dict[str, int] = {}
    now = utc_now()
    for slug, values in rows.items():
        values = {k: v for k, v in values.items() if k in table.c}
        current = existing.get(slug)
        if current is None:
            statement = insert(table).values(
                slug=slug, created_at=now, updated_at=now, **audit, **values
            )
            ids[slug] = session.execute(statement.returning(table.c.id)).scalar_one()
            report.changes[f"{table.name} inserted"] += 1
            report.created.setdefault(table.name, []).append(slug)
            continue
        ids[slug] = current["id"]
        changed = {k: v for k, v in values.items() if current[k] != v}
        if changed:
            session.execute(
                update(table)
                .where(table.c.id == current["id"])
                .values(updated_at=now, **{k: v for k, v in audit.items() if k != "created_by"})
                .values(**changed)
            )
            report.changes[f"{table.name} updated"] += 1
            report.updated.setdefault(table.name, []).append(slug)
    return ids


def _write_deck(session: Session, deck: ParsedDeck, report: SeedReport) -> dict[int, int]:
    """The deck row, its slides by number, and each slide's structured items."""
    row = {"title": deck.title, "file_name": deck.file_name, "sha256": deck.sha256}
    deck_id = _upsert(session, t.deck, {deck.slug: row}, report)[deck.slug]
    sl = t.slide
    existing = {r.number: r for r in session.execute(select(sl).where(sl.c.deck_id == deck_id))}
    slide_ids: dict[int, int] = {}
    for slide in deck.slides:
        current = existing.pop(slide.number, None)
        if current is None:
            statement = insert(sl).values(
                deck_id=deck_id, number=slide.number, title=slide.title, body=slide.body
            )
            slide_ids[slide.number] = session.execute(statement.returning(sl.c.id)).scalar_one()
            report.changes["slide inserted"] += 1
            report.created.setdefault("slide", []).append(str(slide.number))
        else:
            slide_ids[slide.number] = current.id
            if (current.title, current.body) != (slide.title, slide.body):
                session.execute(
                    update(sl)
                    .where(sl.c.id == current.id)
                    .values(title=slide.title, body=slide.body)
                )
                report.changes["slide updated"] += 1
                report.updated.setdefault("slide", []).append(str(slide.number))
        _sync_items(session, slide_ids[slide.number], slide.items, report)
    if existing:  # the deck lost slides: their items, mentions and quotes go with them (CASCADE)
        session.execute(delete(sl).where(sl.c.id.in_([r.id for r in existing.values()])))
        report.changes["slide deleted"] += len(existing)
    return slide_ids


ITEM_COLUMNS = ("slide_id", "position", "kind", "text", "url", "detail")


def _sync_items(session: Session, slide_id: int, items: list[Item], report: SeedReport) -> None:
    wanted = [
        dict(zip(ITEM_COLUMNS, (slide_id, n, i.kind, i.text, i.url, i.detail), strict=True))
        for n, i in enumerate(items, start=1)
    ]
    si = t.slide_item
    stmt = select(*(si.c[c] for c in ITEM_COLUMNS)).where(si.c.slide_id == slide_id)
    have = [dict(r) for r in session.execute(stmt.order_by(si.c.position)).mappings()]
    if have == wanted:
        return
    session.execute(delete(si).where(si.c.slide_id == slide_id))
    if wanted:
        session.execute(insert(si), wanted)
    report.changes["slide_item replaced"] += 1


def _write_links(
    session: Session, plan: Plan, ids: dict[str, dict[str, int]], report: SeedReport
) -> None:
    mt = t.model_technique
    stmt = select(mt).where(mt.c.model_id.in_(list(ids["model"].values())))
    existing = {(r.model_id, r.technique_id): r for r in session.execute(stmt)}
    now = utc_now()
    for (model, technique), values in plan.links.items():
        key = (ids["model"][model], ids["technique"][technique])
        current = existing.get(key)
        if current is None:
            session.execute(
                insert(mt).values(
                    model_id=key[0], technique_id=key[1], created_at=now, updated_at=now, **values
                )
            )
            report.changes["model_technique inserted"] += 1
            report.touched.add(("model", key[0]))
        elif (current.relation, current.evidence) != (values["relation"], values["evidence"]):
            session.execute(
                update(mt)
                .where(mt.c.model_id == key[0], mt.c.technique_id == key[1])
                .values(updated_at=now, **values)
            )
            report.changes["model_technique updated"] += 1
            report.touched.add(("model", key[0]))


SOURCE_COLUMNS = (
    "subject_kind",
    "subject_id",
    "predicate",
    "object_kind",
    "object_id",
    "kind",
    "slide_id",
    "quote",
    "reference",
    "reference_id",
    "note",
)


def _write_sources(
    session: Session,
    plan: Plan,
    ids: dict[str, dict[str, int]],
    slide_ids: dict[int, int],
    origin: str,
    report: SeedReport,
) -> None:
    """Make this seed's sources and slide mentions exactly the plan's; leave other origins alone."""
    wanted: dict[SourceKey, None] = {}
    mentions: set[tuple[int, str, int]] = set()
    for fact in plan.facts:
        subject_id = ids[fact.subject_kind][fact.subject]
        object_id = ids[fact.object_kind][fact.object] if fact.object_kind and fact.object else None
        slide_id = slide_ids[fact.slide] if fact.slide is not None else None
        key = (
            fact.subject_kind, subject_id, fact.predicate, fact.object_kind, object_id,
            fact.kind, slide_id, fact.quote, fact.reference, fact.reference_id, fact.note,
        )  # fmt: skip
        wanted[key] = None
        if slide_id is not None:
            mentions.add((slide_id, fact.subject_kind, subject_id))
            if fact.object_kind and object_id is not None:
                mentions.add((slide_id, fact.object_kind, object_id))
    src = t.source
    stmt = select(src.c.id, *(src.c[c] for c in SOURCE_COLUMNS)).where(src.c.origin == origin)
    have = {tuple(row[1:]): row[0] for row in session.execute(stmt)}
    stale = [source_id for key, source_id in have.items() if key not in wanted]
    now = utc_now()
    fresh = [
        dict(zip(SOURCE_COLUMNS, key, strict=True)) | {"origin": origin, "created_at": now}
        for key in wanted
        if key not in have
    ]
    report.touched |= {(key[0], key[1]) for key in wanted if key not in have}
    report.touched |= {(key[0], key[1]) for key in have if key not in wanted}
    if stale:
        session.execute(delete(src).where(src.c.id.in_(stale)))
        report.changes["source deleted"] += len(stale)
    if fresh:
        session.execute(insert(src), fresh)
        report.changes["source inserted"] += len(fresh)
    _sync_mentions(session, mentions, list(slide_ids.values()), report)


def _sync_mentions(
    session: Session, wanted: set[tuple[int, str, int]], slide_ids: list[int], report: SeedReport
) -> None:
    sm = t.slide_mention
    stmt = select(sm.c.slide_id, sm.c.entity_kind, sm.c.entity_id).where(
        sm.c.slide_id.in_(slide_ids)
    )
    have: set[tuple[int, str, int]] = {(r[0], r[1], r[2]) for r in session.execute(stmt)}
    for slide_id, kind, entity_id in have - wanted:
        session.execute(
            delete(sm).where(
                sm.c.slide_id == slide_id, sm.c.entity_kind == kind, sm.c.entity_id == entity_id
            )
        )
        report.changes["slide_mention deleted"] += 1
    report.touched |= {(k, e) for _, k, e in wanted ^ have}
    fresh = [{"slide_id": s, "entity_kind": k, "entity_id": e} for s, k, e in wanted - have]
    if fresh:
        session.execute(insert(sm), fresh)
        report.changes["slide_mention inserted"] += len(fresh)
