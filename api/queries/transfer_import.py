"""Import a document in the export format: upsert everything, in the caller's one transaction.

Records are matched by slug (links by model + technique, slides by deck + number; a source or
mention is matched by all its fields). Whether a record changed is decided by its content, never
its timestamps; a created or updated record takes the document's timestamps and authors, so a
restored graph exports byte for byte as it was. Nothing is deleted.

When anything changed, the data version is bumped once, to `max(current + 1, the document's
data_version)` (a restore into an empty database resumes at the version it was exported at; the
version never goes back), every created or updated entity gets a change row at that version, and
the search index is refreshed for them. Bulk statements throughout: the current rows are read
once per kind, new rows go in with one executemany per table.
"""

from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from api.queries import search, transfer
from api.queries.transfer_check import Current, Document, Progress, check
from api.queries.transfer_decks import bulk_insert, bulk_update, write_decks
from api.queries.transfer_schema import ENTITIES, LISTS
from models import tables as t
from models.base import utc_now
from models.writes import normal_arxiv, split_date

SOURCE_KEY = transfer.SOURCE_ORDER[:-1]  # every field but created_at


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
        if self_ref and parents:
            column = spec.refs[self_ref][0]
            rows = [
                {"b_id": self.ids[kind][slug], column: self.ids[kind][p] if p else None}
                for slug, p in parents
            ]
            self._update(spec.table, rows)

    def _content(self, kind: str, record: Any) -> dict[str, Any]:
        content: dict[str, Any] = record.model_dump(mode="json", include=set(ENTITIES[kind].fields))
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
        for link in records:
            values = {"relation": link.relation.value, "evidence": link.evidence}
            row = self.current.links.get((link.model, link.technique))
            if row == values:
                self.count("links", "unchanged")
                continue
            ids = {"model_id": self.ids["model"][link.model],
                   "technique_id": self.ids["technique"][link.technique]}  # fmt: skip
            self.touched["model"].add(link.model)
            if row is None:
                fresh.append(ids | values | self.audit(link))
            else:
                changed.append(ids | values | self.audit(link, updating=True))
        self.count("links", "created", len(fresh))
        self.count("links", "updated", len(changed))
        mt = t.model_technique
        if fresh:
            self.session.execute(insert(mt), fresh)
        if changed:
            columns = ["relation", "evidence", "updated_at", "updated_by"]
            stmt = update(mt).where(
                mt.c.model_id == bindparam("b_model"), mt.c.technique_id == bindparam("b_tech")
            )
            stmt = stmt.values({c: bindparam(f"v_{c}") for c in columns})
            params = [
                {"b_model": r["model_id"], "b_tech": r["technique_id"],
                 **{f"v_{c}": r[c] for c in columns}}
                for r in changed
            ]  # fmt: skip
            self.session.connection().execute(stmt, params)

    def sources(self, records: list[Any]) -> None:
        have: Counter[tuple[Any, ...]] = Counter()
        for row in self.session.execute(transfer.sources_select()).mappings():
            have[tuple(row[k] for k in SOURCE_KEY)] += 1
        fresh = []
        for source in records:
            data = source.model_dump(mode="json")
            key = tuple(data[k] for k in SOURCE_KEY)
            if have[key] > 0:
                have[key] -= 1
                self.count("sources", "unchanged")
                continue
            fresh.append(self._source_row(source, data))
            self.touched[data["subject_kind"]].add(data["subject"])
        self.count("sources", "created", len(fresh))
        if fresh:
            self.session.execute(insert(t.source), fresh)

    def _source_row(self, source: Any, data: dict[str, Any]) -> dict[str, Any]:
        row = {k: data[k] for k in ("subject_kind", "predicate", "object_kind", "kind", "quote",
                                    "reference", "reference_id", "note", "origin")}  # fmt: skip
        row["subject_id"] = self.ids[data["subject_kind"]][data["subject"]]
        obj = data["object"]
        row["object_id"] = self.ids[data["object_kind"]][obj] if obj is not None else None
        deck, number = data["deck"], data["slide"]
        row["slide_id"] = self.slide_ids[(deck, number)] if deck is not None else None
        row["created_at"] = source.created_at or self.now
        return row

    def mentions(self, records: list[Any]) -> None:
        sm = t.slide_mention
        stmt = select(sm.c.slide_id, sm.c.entity_kind, sm.c.entity_id)
        have: set[tuple[int, str, int]] = {(r[0], r[1], r[2]) for r in self.session.execute(stmt)}
        fresh = []
        for mention in records:
            kind = mention.kind.value
            row = (self.slide_ids[(mention.deck, mention.slide)], kind,
                   self.ids[kind][mention.slug])  # fmt: skip
            if row in have:
                self.count("mentions", "unchanged")
                continue
            have.add(row)
            fresh.append(dict(zip(("slide_id", "entity_kind", "entity_id"), row, strict=True)))
            self.touched[kind].add(mention.slug)
        self.count("mentions", "created", len(fresh))
        if fresh:
            self.session.execute(insert(sm), fresh)

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
            search.reindex(self.session, kind, ids if len(ids) < 5000 else None)
        search.reindex(self.session, "slide", self.new_slides)
        if rows:
            self.session.execute(
                insert(t.change),
                [{"version": version, "kind": k, "slug": s, "operation": o,
                  "key_name": self.key, "at": self.now} for k, s, o in rows],
            )  # fmt: skip
        return version


def import_document(
    session: Session, document: Any, *, key: str | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Check the whole document, then upsert it; the caller commits (or rolls back)."""
    current = Current.load(session)
    checked: Document = check(session, document, current, progress)
    work = _Import(session, current, key)
    steps: list[tuple[str, Callable[[list[Any]], None]]] = [("decks", work.decks)]
    steps += [(spec.plural, partial(work.entities, kind)) for kind, spec in ENTITIES.items()]
    steps += [("links", work.links), ("sources", work.sources), ("mentions", work.mentions)]
    for name, write in steps:
        write(checked.records[name])
        if progress:
            progress("writing", len(checked.records[name]))
    version = work.finish(checked.data_version)
    report: dict[str, Any] = {"data_version": version}
    report["changed"] = any(c["created"] or c["updated"] for c in work.report.values())
    report |= {name: dict(counts) for name, counts in work.report.items()}
    return report
