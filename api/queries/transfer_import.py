"""Import a document in the export format: upsert everything, in the caller's one transaction.

Records are matched by slug (links by model + technique, slides by deck + number; a source or
mention is matched by all its fields). Whether a record changed is decided by its content, never
its timestamps; a created or updated record takes the document's timestamps and authors, so a
restored graph exports byte for byte as it was. Nothing is deleted.

When anything changed, the data version is bumped once, to `max(current + 1, the document's
data_version)` (a restore into an empty database resumes at the version it was exported at; the
version never goes back), every created or updated entity gets a change row at that version, and
the search index is refreshed for them. Bulk statements throughout: the current rows are read
once per kind; lists are written `BATCH` records at a time, new rows straight to the driver
(`transfer_decks.Rows`: one executemany, or COPY on PostgreSQL).

A file in export's layout is read list by list (`transfer_check.read_file`), so memory holds
the ids of the entities and a batch of records, never the document: a 100k-model graph (1.7M
records, 460 MB) imports in under 400 MB.
"""

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from enum import Enum
from itertools import islice
from typing import Any

import orjson
from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.orm import Session

from api.queries import search, transfer
from api.queries.transfer_check import Checker, Current, InMemory, Lists, Progress
from api.queries.transfer_decks import Rows, bulk_insert, bulk_update, write_decks
from api.queries.transfer_schema import ENTITIES, LISTS
from models import tables as t
from models.base import utc_now
from models.writes import normal_arxiv, split_date

SOURCE_KEY = transfer.SOURCE_ORDER[:-1]  # every field but created_at
SOURCE_COLUMNS = ("subject_kind", "subject_id", "predicate", "object_kind", "object_id", "kind",
                  "slide_id", "quote", "reference", "reference_id", "note", "origin",
                  "created_at")  # fmt: skip
LINK_COLUMNS = ("model_id", "technique_id", "relation", "evidence", "created_at", "updated_at",
                "created_by", "updated_by")  # fmt: skip
BATCH = 5000  # records of a list (decks aside) checked and written at a time


class _Import:
    def __init__(self, session: Session, current: Current, key: str | None) -> None:
        self.session, self.current, self.key, self.now = session, current, key, utc_now()
        self.ids = {
            k: {s: r["id"] for s, r in rows.items()} for k, rows in current.entities.items()
        }
        zero = {"created": 0, "updated": 0, "unchanged": 0}
        self.report = {name: Counter(zero) for name in ("decks", "slides", *LISTS[1:])}
        self.created: dict[str, set[str]] = {kind: set() for kind in ENTITIES}
        self.touched: dict[str, set[str]] = {kind: set() for kind in ENTITIES}
        self.slide_ids: dict[tuple[str, int], int] = {k: r["id"] for k, r in current.slides.items()}
        self.new_slides: set[int] = set()
        self.inserts: dict[str, Rows] = {}
        self.parents: dict[str, list[tuple[str, str | None]]] = {kind: [] for kind in ENTITIES}
        self.sources_held: Counter[bytes] | None = None  # digests of what the database has
        self.mentions_held: set[tuple[int, str, int]] | None = None

    def count(self, name: str, outcome: str, n: int = 1) -> None:
        self.report[name][outcome] += n

    def audit(self, record: Any, *, updating: bool = False) -> dict[str, Any]:
        given = record.model_fields_set
        values = {
            "updated_at": record.updated_at or self.now,
            "updated_by": record.updated_by if "updated_by" in given else self.key,
        }
        if not updating:
            values["created_at"] = record.created_at or self.now
            values["created_by"] = record.created_by if "created_by" in given else self.key
        return values

    # --- entities ---------------------------------------------------------------------------

    def entities(self, kind: str, records: list[Any]) -> None:
        spec = ENTITIES[kind]
        have = self.current.entities[kind]
        self_ref = next((f for f, (_, target) in spec.refs.items() if target == kind), None)
        fresh, changed, parents = [], [], []
        for record in records:
            content = self._content(kind, record)
            row = have.get(record.slug)
            if row is not None and all(row[f] == content[f] for f in spec.fields):
                self.count(spec.plural, "unchanged")
                continue
            values = self._columns(kind, content, skip=self_ref)
            if row is None:
                fresh.append(values | self.audit(record))
                self.created[kind].add(record.slug)
            else:
                changed.append(values | self.audit(record, updating=True) | {"b_id": row["id"]})
                self.touched[kind].add(record.slug)
            old = row[self_ref] if row is not None and self_ref else None
            if self_ref and old != content[self_ref]:
                parents.append((record.slug, content[self_ref]))
        self.count(spec.plural, "created", len(fresh))
        self.count(spec.plural, "updated", len(changed))
        self._insert(spec.table, fresh, self.ids[kind])
        self._update(spec.table, changed)
        self.parents[kind] += parents

    def lineage(self, kind: str) -> None:
        """Set the parents (a model's `derived_from`, a technique's `refines`) once the whole
        list is written: a parent may come after its child."""
        spec, parents = ENTITIES[kind], self.parents.pop(kind, [])
        self_ref = next((f for f, (_, target) in spec.refs.items() if target == kind), None)
        if not (self_ref and parents):
            return
        column, ids = spec.refs[self_ref][0], self.ids[kind]
        if self.session.get_bind().dialect.name == "postgresql":  # one statement, not one a row
            stmt = text(
                f"UPDATE {spec.table.name} AS x SET {column} = u.parent FROM unnest("
                "CAST(:ids AS integer[]), CAST(:parents AS integer[])) AS u(id, parent) "
                "WHERE x.id = u.id"
            )
            params = {"ids": [ids[slug] for slug, _ in parents],
                      "parents": [ids[p] if p else None for _, p in parents]}  # fmt: skip
            self.session.execute(stmt, params)
            return
        rows = [{"b_id": ids[slug], column: ids[p] if p else None} for slug, p in parents]
        self._update(spec.table, rows)

    def _content(self, kind: str, record: Any) -> dict[str, Any]:
        """The record's fields as JSON values (what `model_dump(mode="json")` gives for them:
        enums by value, lists copied), read field by field."""
        content: dict[str, Any] = {}
        for name in ENTITIES[kind].fields:
            value = getattr(record, name)
            if isinstance(value, Enum):
                value = value.value
            elif isinstance(value, list):
                value = list(value)
            content[name] = value
        if content.get("arxiv_id"):
            content["arxiv_id"] = normal_arxiv(content["arxiv_id"])
        return content

    def _columns(self, kind: str, content: dict[str, Any], skip: str | None) -> dict[str, Any]:
        spec = ENTITIES[kind]
        values: dict[str, Any] = {}
        for name, value in content.items():
            if name in spec.refs:
                column, target = spec.refs[name]
                if name != skip:
                    values[column] = self.ids[target][value] if value is not None else None
            elif name in spec.dates:
                values[name], values[spec.dates[name]] = split_date(value)
            else:
                values[name] = value
        return values

    def _insert(self, table: Table, rows: list[dict[str, Any]], ids: dict[str, int]) -> None:
        bulk_insert(self.session, table, rows, ids)

    def _update(self, table: Table, rows: list[dict[str, Any]]) -> None:
        bulk_update(self.session, table, rows)

    # --- decks and slides -------------------------------------------------------------------

    def decks(self, records: list[Any]) -> None:
        decks, slides, written = write_decks(
            self.session, records, self.current, self.now, self.slide_ids
        )
        self.report["decks"].update(decks)
        self.report["slides"].update(slides)
        self.new_slides |= written

    # --- relations and provenance -----------------------------------------------------------

    def links(self, records: list[Any]) -> None:
        fresh, changed = [], []
        model_ids, technique_ids = self.ids["model"], self.ids["technique"]
        touched = self.touched["model"]
        for link in records:
            relation, evidence = link.relation.value, link.evidence
            row = self.current.links.get((link.model, link.technique))
            if row is not None and row["relation"] == relation and row["evidence"] == evidence:
                self.count("links", "unchanged")
                continue
            touched.add(link.model)
            ids = (model_ids[link.model], technique_ids[link.technique])
            if row is None:
                audit = self.audit(link)
                stamps = (audit["created_at"], audit["updated_at"])
                fresh.append((*ids, relation, evidence, *stamps,
                              audit["created_by"], audit["updated_by"]))  # fmt: skip
            else:
                changed.append((ids, relation, evidence, self.audit(link, updating=True)))
        self.count("links", "created", len(fresh))
        self.count("links", "updated", len(changed))
        if fresh:
            self.rows("link", t.model_technique, LINK_COLUMNS).execute(fresh)
        if changed:
            mt = t.model_technique
            columns = ["relation", "evidence", "updated_at", "updated_by"]
            stmt = update(mt).where(
                mt.c.model_id == bindparam("b_model"), mt.c.technique_id == bindparam("b_tech")
            )
            stmt = stmt.values({c: bindparam(f"v_{c}") for c in columns})
            params = [
                {"b_model": ids[0], "b_tech": ids[1], "v_relation": relation,
                 "v_evidence": evidence, "v_updated_at": audit["updated_at"],
                 "v_updated_by": audit["updated_by"]}
                for ids, relation, evidence, audit in changed
            ]  # fmt: skip
            self.session.connection().execute(stmt, params)

    def rows(self, name: str, table: Table, columns: tuple[str, ...]) -> Rows:
        """The prepared bulk INSERT of `name` rows, made once."""
        if name not in self.inserts:
            self.inserts[name] = Rows(self.session, table, columns)
        return self.inserts[name]

    def sources(self, records: list[Any]) -> None:
        if self.sources_held is None:
            self.sources_held = Counter()
            for row in self.session.execute(transfer.sources_select()).mappings():
                self.sources_held[_digest(tuple(row[k] for k in SOURCE_KEY))] += 1
        have = self.sources_held
        fresh = []
        for source in records:
            key = _source_key(source)
            held = _digest(key)
            if have[held] > 0:
                have[held] -= 1
                self.count("sources", "unchanged")
                continue
            fresh.append(self._source_row(source))
            self.touched[key[0]].add(source.subject)
        self.count("sources", "created", len(fresh))
        if fresh:
            self.rows("source", t.source, SOURCE_COLUMNS).execute(fresh)

    def _source_row(self, source: Any) -> tuple[Any, ...]:
        subject_kind = source.subject_kind.value
        object_kind = source.object_kind.value if source.object_kind is not None else None
        obj = source.object
        deck = source.deck
        return (
            subject_kind, self.ids[subject_kind][source.subject], source.predicate, object_kind,
            self.ids[object_kind][obj] if object_kind is not None and obj is not None else None,
            source.kind, self.slide_ids[(deck, source.slide)] if deck is not None else None,
            source.quote, source.reference, source.reference_id, source.note, source.origin,
            source.created_at or self.now,
        )  # fmt: skip

    def mentions(self, records: list[Any]) -> None:
        if self.mentions_held is None:
            sm = t.slide_mention
            stmt = select(sm.c.slide_id, sm.c.entity_kind, sm.c.entity_id)
            self.mentions_held = {(r[0], r[1], r[2]) for r in self.session.execute(stmt)}
        have = self.mentions_held
        fresh = []
        for mention in records:
            kind = mention.kind.value
            row = (self.slide_ids[(mention.deck, mention.slide)], kind,
                   self.ids[kind][mention.slug])  # fmt: skip
            if row in have:
                self.count("mentions", "unchanged")
                continue
            have.add(row)
            fresh.append(row)
            self.touched[kind].add(mention.slug)
        self.count("mentions", "created", len(fresh))
        if fresh:
            columns = ("slide_id", "entity_kind", "entity_id")
            self.rows("mention", t.slide_mention, columns).execute(fresh)

    # --- the change feed and the index ------------------------------------------------------

    def finish(self, document_version: int) -> int:
        dv = t.data_version
        version = int(self.session.execute(select(dv.c.version)).scalar_one())
        changed = any(c["created"] or c["updated"] for c in self.report.values())
        if not changed:
            return version
        version = max(version + 1, document_version)
        self.session.execute(update(dv).values(version=version, updated_at=self.now))
        rows = []
        for kind in ENTITIES:
            for slug in sorted(self.created[kind]):
                rows.append((kind, slug, "created"))
            for slug in sorted(self.touched[kind] - self.created[kind]):
                rows.append((kind, slug, "updated"))
            ids = [self.ids[kind][s] for s in self.created[kind] | self.touched[kind]]
            search.reindex(self.session, kind, ids)
        search.reindex(self.session, "slide", self.new_slides)
        columns = ("version", "kind", "slug", "operation", "key_name", "at")
        self.rows("change", t.change, columns).execute(
            (version, k, s, o, self.key, self.now) for k, s, o in rows
        )
        return version


def import_document(
    session: Session, document: Any, *, key: str | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Check the document and upsert it, list by list; the caller commits (or rolls back).

    `document` is a parsed document or the `Lists` of a file (`transfer_check.read_file`).
    Decks are checked whole before they are written; every other list is checked and written
    `BATCH` records at a time (parents once their whole list is in). The first bad record raises a
    DocumentError, and the caller's rollback then leaves the database as it was.
    """
    lists = document if isinstance(document, Lists) else InMemory(document)
    current = Current.load(session)
    checker = Checker(lists, current)
    work = _Import(session, current, key)
    work.decks(list(checker.records("decks")))
    _advance(progress, sum(work.report["decks"].values()))
    for kind, spec in ENTITIES.items():
        for batch in _batches(checker.records(spec.plural)):
            work.entities(kind, batch)
            _advance(progress, len(batch))
        work.lineage(kind)
    for name, write in (("links", work.links), ("sources", work.sources),
                        ("mentions", work.mentions)):  # fmt: skip
        for batch in _batches(checker.records(name)):
            write(batch)
            _advance(progress, len(batch))
    version = work.finish(lists.data_version)
    report: dict[str, Any] = {"data_version": version}
    report["changed"] = any(c["created"] or c["updated"] for c in work.report.values())
    report |= {name: dict(counts) for name, counts in work.report.items()}
    return report


def _batches(records: Iterable[Any]) -> Iterator[list[Any]]:
    iterator = iter(records)
    while batch := list(islice(iterator, BATCH)):
        yield batch


def _advance(progress: Progress | None, done: int) -> None:
    if progress is not None and done:
        progress("importing", done)


def _digest(key: tuple[Any, ...]) -> bytes:
    """16 bytes standing for a source's fields: what the database holds is matched without
    keeping every quote and note of it in memory."""
    return hashlib.blake2b(orjson.dumps(key), digest_size=16).digest()


def _source_key(source: Any) -> tuple[Any, ...]:
    """A source's fields as the database rows give them (SOURCE_KEY order)."""
    return (
        source.subject_kind.value, source.subject, source.predicate,
        source.object_kind.value if source.object_kind is not None else None, source.object,
        source.kind, source.deck, source.slide, source.quote, source.reference,
        source.reference_id, source.note, source.origin,
    )  # fmt: skip
