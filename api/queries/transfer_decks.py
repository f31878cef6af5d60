"""Bulk writes for an import: executemany inserts and updates, and the decks with their slides."""

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from api.queries.transfer_check import Current
from models import tables as t

ITEM_FIELDS = ("position", "kind", "text", "url", "detail")


def bulk_insert(
    session: Session, table: Table, rows: list[dict[str, Any]], ids: dict[str, int]
) -> None:
    """One executemany; the new ids join `ids` by slug."""
    if rows:
        stmt = insert(table).returning(table.c.slug, table.c.id)
        ids.update({str(slug): int(i) for slug, i in session.execute(stmt, rows)})


def bulk_update(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """One executemany `UPDATE … WHERE id = :b_id` over rows of the same columns."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != "b_id"]
    stmt = update(table).where(table.c.id == bindparam("b_id"))
    stmt = stmt.values({c: bindparam(f"v_{c}") for c in columns})
    params = [{"b_id": r["b_id"], **{f"v_{c}": r[c] for c in columns}} for r in rows]
    session.connection().execute(stmt, params)


def write_decks(
    session: Session,
    records: list[Any],
    current: Current,
    now: datetime,
    slide_ids: dict[tuple[str, int], int],
) -> tuple[Counter[str], Counter[str], set[int]]:
    """Decks by slug, slides by deck + number, items per slide: counts, and the slides written.

    `slide_ids` gains the new slides. A slide whose items differ has them replaced.
    """
    decks: Counter[str] = Counter({"created": 0, "updated": 0, "unchanged": 0})
    slides: Counter[str] = Counter()
    deck_ids = {slug: row["id"] for slug, row in current.decks.items()}
    fresh, changed = [], []
    for deck in records:
        values = {"slug": deck.slug, "title": deck.title, "file_name": deck.file_name,
                  "sha256": deck.sha256}  # fmt: skip
        row = current.decks.get(deck.slug)
        stamps = {"updated_at": deck.updated_at or now}
        if row is None:
            fresh.append(values | stamps | {"created_at": deck.created_at or now})
        elif any(row[k] != v for k, v in values.items()):
            changed.append(values | stamps | {"b_id": row["id"]})
        else:
            decks["unchanged"] += 1
    decks.update(created=len(fresh), updated=len(changed))
    bulk_insert(session, t.deck, fresh, deck_ids)
    bulk_update(session, t.deck, changed)
    created = _write_slides(session, records, current, deck_ids, slide_ids)
    retitled, replaced = created.pop("retitled"), _write_items(session, records, slide_ids)
    new = set(created["ids"])
    updated = retitled | (replaced - new)
    total = sum(len(d.slides) for d in records)
    slides.update(created=len(new), updated=len(updated), unchanged=total - len(new | updated))
    return decks, slides, new | updated


def _write_slides(
    session: Session,
    records: list[Any],
    current: Current,
    deck_ids: dict[str, int],
    slide_ids: dict[tuple[str, int], int],
) -> dict[str, set[int]]:
    sl = t.slide
    new_slides, changed = [], []
    for deck in records:
        for slide in deck.slides:
            row = current.slides.get((deck.slug, slide.number))
            if row is None:
                new_slides.append((deck.slug, slide))
            elif (row["title"], row["body"]) != (slide.title, slide.body):
                changed.append({"b_id": row["id"], "title": slide.title, "body": slide.body})
    ids: set[int] = set()
    if new_slides:
        stmt = insert(sl).returning(sl.c.id, sort_by_parameter_order=True)
        params = [
            {"deck_id": deck_ids[d], "number": s.number, "title": s.title, "body": s.body}
            for d, s in new_slides
        ]
        new_ids = session.execute(stmt, params).scalars()
        for (deck_slug, slide), new_id in zip(new_slides, new_ids, strict=True):
            slide_ids[(deck_slug, slide.number)] = new_id
            ids.add(new_id)
    bulk_update(session, sl, changed)
    return {"ids": ids, "retitled": {r["b_id"] for r in changed}}


def _write_items(
    session: Session, records: list[Any], slide_ids: dict[tuple[str, int], int]
) -> set[int]:
    """Replace the items of every slide whose items differ; the ids of those slides."""
    i = t.slide_item
    stmt = select(i.c.slide_id, *(i.c[f] for f in ITEM_FIELDS))
    have: dict[int, list[tuple[Any, ...]]] = {}
    for row in session.execute(stmt.order_by(i.c.slide_id, i.c.position)):
        have.setdefault(row[0], []).append(tuple(row[1:]))
    replaced: set[int] = set()
    rows: list[dict[str, Any]] = []
    for deck in records:
        for slide in deck.slides:
            slide_id = slide_ids[(deck.slug, slide.number)]
            wanted = [tuple(getattr(item, f) for f in ITEM_FIELDS) for item in slide.items]
            if have.get(slide_id, []) == wanted:
                continue
            replaced.add(slide_id)
            rows += [
                dict(zip(ITEM_FIELDS, w, strict=True)) | {"slide_id": slide_id} for w in wanted
            ]
    if replaced:
        session.execute(delete(i).where(i.c.slide_id.in_(sorted(replaced))))
    if rows:
        session.execute(insert(i), rows)
    return replaced
