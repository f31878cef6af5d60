"""Bulk writes for an import: executemany inserts and updates, and the decks with their slides."""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Table, delete, func, insert, select
from sqlalchemy.orm import Session

from api.queries.transfer_check import Current
from models import tables as t

ITEM_FIELDS = ("position", "kind", "text", "url", "detail")


BULK_ROWS = 1000  # from this many new entities on, insert them plainly and read the ids back


def bulk_insert(
    session: Session, table: Table, rows: list[dict[str, Any]], ids: dict[str, int]
) -> None:
    """One executemany (rows of the same columns); the new ids join `ids` by slug.

    Many rows go in straight to the driver, then the (slug, id) pairs of the rows past the
    largest id before are read in one query: RETURNING row by row costs more than both."""
    if not rows:
        return
    if len(rows) < BULK_ROWS:
        stmt = insert(table).returning(table.c.slug, table.c.id)
        ids.update({str(slug): int(i) for slug, i in session.execute(stmt, rows)})
        return
    before = session.execute(select(func.max(table.c.id))).scalar() or 0
    columns = tuple(rows[0])
    Rows(session, table, columns).execute(tuple(row[c] for c in columns) for row in rows)
    read = select(table.c.slug, table.c.id)
    ids.update({str(slug): int(i) for slug, i in session.execute(read.where(table.c.id > before))})
    if any(row["slug"] not in ids for row in rows):  # a sequence behind: read them all
        ids.update({str(slug): int(i) for slug, i in session.execute(read)})


class Rows:
    """An INSERT (or an UPDATE by `key`) of many rows given as tuples in `columns` order (then
    the key), straight to the driver.

    Each value is converted as SQLAlchemy converts it for the column (timestamps formatted once
    per distinct value), then the rows go in one driver `executemany`: none of the per-row
    parameter handling of a Core executemany, which is most of the cost of a large import.
    """

    def __init__(
        self, session: Session, table: Table, columns: Sequence[str], *, key: str | None = None
    ) -> None:
        self.session = session
        dialect = session.connection().dialect
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.copy = None  # PostgreSQL takes new rows fastest by COPY (same checks, same triggers)
        if key is None and dialect.name == "postgresql":
            self.copy = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        if key is None:
            self.sql = (
                f"INSERT INTO {table.name} ({', '.join(columns)}) "
                f"VALUES ({', '.join([mark] * len(columns))})"
            )
        else:
            assignments = ", ".join(f"{c} = {mark}" for c in columns)
            self.sql = f"UPDATE {table.name} SET {assignments} WHERE {key} = {mark}"
        self.converters: list[Callable[[Any], Any] | None] = []
        for name in (*columns, *([key] if key else [])):
            column_type = table.c[name].type
            impl = column_type.dialect_impl(dialect)
            process: Callable[[Any], Any] | None = impl.bind_processor(dialect)
            if process is not None and isinstance(column_type, DateTime):
                process = _memoized(process)
            self.converters.append(process)

    def execute(self, rows: Iterable[Sequence[Any]]) -> None:
        converting = [(i, c) for i, c in enumerate(self.converters) if c is not None]
        params: list[tuple[Any, ...]] = []
        for row in rows:
            if converting:
                values = list(row)
                for i, convert in converting:
                    if values[i] is not None:
                        values[i] = convert(values[i])
                row = values
            params.append(tuple(row))
        if not params:
            return
        connection = self.session.connection()
        if self.copy is None:
            connection.exec_driver_sql(self.sql, params)
            return
        driver: Any = connection.connection.driver_connection  # psycopg, in this transaction
        with driver.cursor() as cursor, cursor.copy(self.copy) as copy:
            for row in params:
                copy.write_row(row)


def _memoized(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    done: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        result = done.get(value)
        if result is None:
            if len(done) > 100_000:
                done.clear()
            result = done[value] = process(value)
        return result

    return convert


def bulk_update(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """One executemany `UPDATE … WHERE id = :b_id` over rows of the same columns."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != "b_id"]
    Rows(session, table, columns, key="id").execute(
        (*(r[c] for c in columns), r["b_id"]) for r in rows
    )


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
