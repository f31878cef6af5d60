"""Export the whole graph as one JSON document, streamed record by record.

The document (format `paperkg-export`, version 1; fields in api/queries/transfer_schema.py):

    {"format": "paperkg-export", "version": 1, "data_version": N,
     "decks": [...], "labs": [...], "papers": [...], "models": [...], "techniques": [...],
     "links": [...], "sources": [...], "mentions": [...]}

Every list is in a stable order (slugs; links by model then technique; sources by all their
fields; byte order, the same on SQLite and PostgreSQL), one record per line, and is read in
batches from one snapshot of the database, so memory stays flat however large the graph is.
Timestamps travel with their records, so export -> import into an empty database -> export
gives the same bytes (import restores `data_version` too; see transfer_import).
"""

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Engine, Select, func, select

from api.queries.transfer_schema import AUDIT, ENTITIES, FORMAT, VERSION, timestamp
from api.responses import chunked
from models import tables as t
from models.base import reduced_iso

BATCH = 1000


def open_export(engine: Engine) -> Iterator[bytes]:
    """The document's chunks. Connects and takes the snapshot now, so a dead database fails
    before any byte is sent; the connection closes when the chunks end or are dropped."""
    parts = _document(engine)
    head = next(parts)
    return chunked(itertools.chain([head], parts))


def _document(engine: Engine) -> Iterator[bytes]:
    connection = engine.connect()
    try:
        if connection.dialect.name == "sqlite":
            # pysqlite opens no transaction for reads: make one, so every list sees one state.
            connection.exec_driver_sql("BEGIN")
        else:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        version = int(connection.execute(select(t.data_version.c.version)).scalar_one())
        dialect = connection.dialect.name
        head = {"format": FORMAT, "version": VERSION, "data_version": version}
        yield orjson.dumps(head)[:-1]
        yield from _list("decks", _decks(connection, dialect))
        for spec in ENTITIES.values():
            rows = _stream(connection, entity_select(spec.kind, order=dialect))
            yield from _list(spec.plural, (entity_record(spec.kind, row) for row in rows))
        yield from _list("links", _links(connection, dialect))
        yield from _list("sources", _sources(connection, dialect))
        yield from _list("mentions", _stream(connection, _mentions_select(dialect)))
        yield b"\n}\n"
    finally:
        connection.close()


def _list(name: str, records: Iterable[dict[str, Any] | bytes]) -> Iterator[bytes]:
    yield b',\n"' + name.encode() + b'":['
    separator = b"\n"
    for record in records:
        yield separator + (record if isinstance(record, bytes) else orjson.dumps(record))
        separator = b",\n"
    yield b"]" if separator == b"\n" else b"\n]"


def _stream(connection: Connection, stmt: Select[Any]) -> Iterator[dict[str, Any]]:
    """Rows in batches (a server-side cursor on PostgreSQL), each as a plain dict."""
    result = connection.execution_options(yield_per=BATCH).execute(stmt)
    for row in result.mappings():
        yield dict(row)


def by_bytes(column: Any, dialect: str) -> Any:
    """Text in byte order on both dialects (SQLite's default; PostgreSQL's `C` collation)."""
    return column if dialect == "sqlite" else column.collate("C")


def entity_select(kind: str, *, order: str | None = None) -> Select[Any]:
    """An entity kind's rows in document terms: related entities by slug, dates with precision."""
    spec = ENTITIES[kind]
    table = spec.table
    joined: Any = table
    columns: list[ColumnElement[Any]] = [table.c.id]
    for name in spec.fields:
        if name in spec.refs:
            fk, target = spec.refs[name]
            other = ENTITIES[target].table.alias(f"ref_{name}")
            joined = joined.outerjoin(other, other.c.id == table.c[fk])
            columns.append(other.c.slug.label(name))
        elif name in spec.dates:
            columns += [table.c[name], table.c[spec.dates[name]].label(f"{name}_precision")]
        else:
            columns.append(table.c[name])
    stmt = select(*columns, *(table.c[a] for a in AUDIT)).select_from(joined)
    return stmt.order_by(by_bytes(table.c.slug, order)) if order else stmt


def entity_record(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    spec = ENTITIES[kind]
    record: dict[str, Any] = {}
    for name in spec.fields:
        value = row[name]
        if name in spec.dates:
            value = reduced_iso(value, row[f"{name}_precision"])
        elif name == "aliases":
            value = list(value or [])
        record[name] = value
    record["created_at"] = timestamp(row["created_at"])
    record["updated_at"] = timestamp(row["updated_at"])
    record["created_by"] = row["created_by"]
    record["updated_by"] = row["updated_by"]
    return record


def _decks(connection: Connection, dialect: str) -> Iterator[bytes]:
    """Each deck with its slides (one per line) and each slide's items, from one ordered join."""
    d, s, i = t.deck, t.slide, t.slide_item
    stmt = (
        select(
            d.c.slug, d.c.title, d.c.file_name, d.c.sha256, d.c.created_at, d.c.updated_at,
            s.c.number, s.c.title.label("slide_title"), s.c.body,
            i.c.position, i.c.kind, i.c.text, i.c.url, i.c.detail,
        )
        .select_from(d.outerjoin(s, s.c.deck_id == d.c.id).outerjoin(i, i.c.slide_id == s.c.id))
        .order_by(by_bytes(d.c.slug, dialect), s.c.number, i.c.position)
    )  # fmt: skip
    deck: dict[str, Any] | None = None
    slide: dict[str, Any] | None = None
    slides: list[bytes] = []
    for row in _stream(connection, stmt):
        if deck is None or row["slug"] != deck["slug"]:
            if deck is not None:
                yield _deck_bytes(deck, slides, slide)
            deck, slide, slides = _deck_head(row), None, []
        if row["number"] is not None and (slide is None or slide["number"] != row["number"]):
            if slide is not None:
                slides.append(orjson.dumps(slide))
            slide = {"number": row["number"], "title": row["slide_title"], "body": row["body"]}
            slide["items"] = []
        if row["position"] is not None and slide is not None:
            slide["items"].append(
                {k: row[k] for k in ("position", "kind", "text", "url", "detail")}
            )
    if deck is not None:
        yield _deck_bytes(deck, slides, slide)


def _deck_head(row: dict[str, Any]) -> dict[str, Any]:
    head = {k: row[k] for k in ("slug", "title", "file_name", "sha256")}
    head["created_at"] = timestamp(row["created_at"])
    head["updated_at"] = timestamp(row["updated_at"])
    return head


def _deck_bytes(deck: dict[str, Any], slides: list[bytes], last: dict[str, Any] | None) -> bytes:
    if last is not None:
        slides.append(orjson.dumps(last))
    body = b"[\n" + b",\n".join(slides) + b"\n]" if slides else b"[]"
    return orjson.dumps(deck)[:-1] + b',"slides":' + body + b"}"


def _links_select(dialect: str) -> Select[Any]:
    mt, m, te = t.model_technique, t.model, t.technique
    return (
        select(
            m.c.slug.label("model"), te.c.slug.label("technique"), mt.c.relation, mt.c.evidence,
            mt.c.created_at, mt.c.updated_at, mt.c.created_by, mt.c.updated_by,
        )
        .join(m, m.c.id == mt.c.model_id)
        .join(te, te.c.id == mt.c.technique_id)
        .order_by(by_bytes(m.c.slug, dialect), by_bytes(te.c.slug, dialect))
    )  # fmt: skip


def _links(connection: Connection, dialect: str) -> Iterator[dict[str, Any]]:
    for row in _stream(connection, _links_select(dialect)):
        row["created_at"] = timestamp(row["created_at"])
        row["updated_at"] = timestamp(row["updated_at"])
        yield row


def _slug_of(kind_column: Any, id_column: Any, prefix: str) -> tuple[Any, list[Any]]:
    """The slug of a `kind:id` pair, through one outer join per entity table."""
    aliases = {kind: spec.table.alias(f"{prefix}_{kind}") for kind, spec in ENTITIES.items()}
    joins = [(a, (kind_column == kind) & (a.c.id == id_column)) for kind, a in aliases.items()]
    slug = func.coalesce(*(a.c.slug for a in aliases.values()))
    return slug, joins


SOURCE_ORDER = (
    "subject_kind", "subject", "predicate", "object_kind", "object", "kind", "deck", "slide",
    "quote", "reference", "reference_id", "note", "origin", "created_at",
)  # fmt: skip


def sources_select(*, order: str | None = None) -> Select[Any]:
    """Every source with its subject, object and slide named by slug (and deck + number)."""
    src, sl, d = t.source, t.slide, t.deck
    subject, subject_joins = _slug_of(src.c.subject_kind, src.c.subject_id, "subject")
    obj, object_joins = _slug_of(src.c.object_kind, src.c.object_id, "object")
    joined: Any = src.outerjoin(sl, sl.c.id == src.c.slide_id).outerjoin(d, d.c.id == sl.c.deck_id)
    for alias, on in subject_joins + object_joins:
        joined = joined.outerjoin(alias, on)
    columns = {
        "subject_kind": src.c.subject_kind, "subject": subject, "predicate": src.c.predicate,
        "object_kind": src.c.object_kind, "object": obj, "kind": src.c.kind, "deck": d.c.slug,
        "slide": sl.c.number, "quote": src.c.quote, "reference": src.c.reference,
        "reference_id": src.c.reference_id, "note": src.c.note, "origin": src.c.origin,
        "created_at": src.c.created_at,
    }  # fmt: skip
    stmt = select(*(c.label(n) for n, c in columns.items())).select_from(joined)
    if not order:
        return stmt
    keys = [
        columns[n] if n in ("slide", "created_at") else by_bytes(columns[n], order) for n in columns
    ]
    return stmt.order_by(*(k.asc().nulls_first() for k in keys), src.c.id)


def _sources(connection: Connection, dialect: str) -> Iterator[dict[str, Any]]:
    for row in _stream(connection, sources_select(order=dialect)):
        row["created_at"] = timestamp(row["created_at"])
        yield row


def _mentions_select(dialect: str) -> Select[Any]:
    sm, sl, d = t.slide_mention, t.slide, t.deck
    slug, joins = _slug_of(sm.c.entity_kind, sm.c.entity_id, "entity")
    joined: Any = sm.join(sl, sl.c.id == sm.c.slide_id).join(d, d.c.id == sl.c.deck_id)
    for alias, on in joins:
        joined = joined.outerjoin(alias, on)
    return (
        select(d.c.slug.label("deck"), sl.c.number.label("slide"),
               sm.c.entity_kind.label("kind"), slug.label("slug"))
        .select_from(joined)
        .order_by(by_bytes(d.c.slug, dialect), sl.c.number,
                  by_bytes(sm.c.entity_kind, dialect), by_bytes(slug, dialect))
    )  # fmt: skip
