"""Check an import document before anything is written: shapes, references, uniqueness, cycles.

Records are checked in document order (decks, labs, papers, models, techniques, links, sources,
mentions), and the first bad one stops the import with a 422 naming it:
`models[3] (slug 'x'): lab 'nope' does not exist`. A reference resolves when the document or the
database holds its target.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.queries import transfer
from api.queries.transfer_schema import (
    ENTITIES,
    FORMAT,
    LISTS,
    RECORDS,
    VERSION,
    DeckRecord,
    DocumentError,
    LinkRecord,
    MentionRecord,
    Record,
    SourceRecord,
)
from models import tables as t
from models.writes import normal_arxiv

Progress = Callable[[str, int], None]
KIND_OF = {spec.plural: kind for kind, spec in ENTITIES.items()}


@dataclass
class Current:
    """What the database holds, in document terms, loaded once per kind (no per-record SELECT)."""

    entities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    arxiv: dict[str, str] = field(default_factory=dict)  # arXiv id -> paper slug
    decks: dict[str, dict[str, Any]] = field(default_factory=dict)
    slides: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    links: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> "Current":
        current = cls()
        for kind in ENTITIES:
            rows = session.execute(transfer.entity_select(kind)).mappings()
            current.entities[kind] = {
                row["slug"]: transfer.entity_record(kind, dict(row)) | {"id": row["id"]}
                for row in rows
            }
        current.arxiv = {
            row["arxiv_id"]: slug
            for slug, row in current.entities["paper"].items()
            if row["arxiv_id"]
        }
        d, s = t.deck, t.slide
        for row in session.execute(select(d)).mappings():
            current.decks[row["slug"]] = dict(row)
        stmt = select(s.c.id, s.c.number, s.c.title, s.c.body, d.c.slug.label("deck"))
        for row in session.execute(stmt.join(d, d.c.id == s.c.deck_id)).mappings():
            current.slides[(row["deck"], row["number"])] = dict(row)
        mt, m, te = t.model_technique, t.model, t.technique
        links = select(m.c.slug, te.c.slug, mt.c.relation, mt.c.evidence)
        links = links.join(m, m.c.id == mt.c.model_id).join(te, te.c.id == mt.c.technique_id)
        for link in session.execute(links):
            current.links[(link[0], link[1])] = {"relation": link[2], "evidence": link[3]}
        return current

    def has(self, kind: str, slug: str) -> bool:
        return slug in self.entities[kind]


@dataclass
class Document:
    """A checked document: typed records per list, and the data version it was exported at."""

    data_version: int
    records: dict[str, list[Any]]

    @property
    def size(self) -> int:
        return sum(len(records) for records in self.records.values())


def header(document: Any) -> dict[str, list[Any]]:
    """The lists of a document whose header says `paperkg-export`, version 1."""
    if not isinstance(document, dict):
        raise DocumentError("document", "expected a JSON object")
    if document.get("format") != FORMAT:
        raise DocumentError("format", f"expected {FORMAT!r}, got {document.get('format')!r}")
    if document.get("version") != VERSION:
        raise DocumentError("version", f"expected {VERSION}, got {document.get('version')!r}")
    unknown = sorted(set(document) - {"format", "version", "data_version", *LISTS})
    if unknown:
        raise DocumentError(unknown[0], "not a part of the format")
    version = document.get("data_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version <= 2**62:
        raise DocumentError("data_version", "expected a whole number from 0 to 2**62")
    lists: dict[str, list[Any]] = {}
    for name in LISTS:
        value = document.get(name, [])
        if not isinstance(value, list):
            raise DocumentError(name, "expected a list")
        lists[name] = value
    return lists


def check(
    session: Session, document: Any, current: Current, progress: Progress | None = None
) -> Document:
    """Every record validated and every reference resolved, or a DocumentError for the first."""
    lists = header(document)
    version = document.get("data_version", 0)
    checker = _Checker(lists, current)
    records: dict[str, list[Any]] = {}
    for name in LISTS:
        records[name] = []
        seen: dict[Any, int] = {}
        for index, raw in enumerate(lists[name]):
            where = f"{name}[{index}]{_label(raw)}"
            record = _validate(RECORDS[name], raw, where)
            key = _key(name, record)
            if key is not None and key in seen:
                raise DocumentError(where, f"a duplicate of {name}[{seen[key]}]")
            if key is not None:
                seen[key] = index
            problem = checker.problem(name, record)
            if problem:
                raise DocumentError(where, problem)
            records[name].append(record)
            if progress:
                progress("checking", 1)
    return Document(data_version=int(version), records=records)


def _label(raw: Any) -> str:
    if not isinstance(raw, dict):
        return ""
    for names in (("slug",), ("model", "technique"), ("subject_kind", "subject")):
        if all(isinstance(raw.get(n), str) for n in names):
            return " (" + ", ".join(f"{n} {raw[n]!r}" for n in names) + ")"
    return ""


def _validate(schema: type[Record], raw: Any, where: str) -> Any:
    try:
        return schema.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        raise DocumentError(where, f"{loc}: {first['msg']}" if loc else first["msg"]) from error


def _key(name: str, record: Any) -> Any:
    if name in KIND_OF or name == "decks":
        return record.slug
    if name == "links":
        return (record.model, record.technique)
    if name == "mentions":
        return (record.deck, record.slide, record.kind, record.slug)
    return None  # sources are a multiset: the same source twice is two rows


class _Checker:
    def __init__(self, lists: dict[str, list[Any]], current: Current) -> None:
        self.current = current
        self.slugs = {
            kind: {r.get("slug") for r in lists[spec.plural] if isinstance(r, dict)}
            for kind, spec in ENTITIES.items()
        }
        self.arxiv_of = {
            r.get("slug"): r.get("arxiv_id") for r in lists["papers"] if isinstance(r, dict)
        }
        self.arxiv_seen: dict[str, str] = {}
        self.slides = {
            (d.get("slug"), s.get("number"))
            for d in lists["decks"]
            if isinstance(d, dict) and isinstance(d.get("slides"), list)
            for s in d["slides"]
            if isinstance(s, dict)
        }
        # The lineage as it will be: the database's, overridden by the document's records.
        self.parents: dict[str, dict[Any, Any]] = {}
        for kind, column in (("model", "derived_from"), ("technique", "refines")):
            parents: dict[Any, Any] = {s: r[column] for s, r in current.entities[kind].items()}
            for raw in lists[ENTITIES[kind].plural]:
                if isinstance(raw, dict):
                    parents[raw.get("slug")] = raw.get(column)
            self.parents[kind] = parents
        self.acyclic: dict[str, set[Any]] = {"model": set(), "technique": set()}

    def exists(self, kind: str, slug: str) -> bool:
        return slug in self.slugs[kind] or self.current.has(kind, slug)

    def slide_exists(self, deck: str, number: int) -> bool:
        return (deck, number) in self.slides or (deck, number) in self.current.slides

    def problem(self, name: str, record: Any) -> str | None:
        if name in KIND_OF:
            return self._entity(KIND_OF[name], record)
        if isinstance(record, DeckRecord):
            numbers = [s.number for s in record.slides]
            if len(set(numbers)) != len(numbers):
                return "two slides have the same number"
            for slide in record.slides:
                positions = [i.position for i in slide.items]
                if len(set(positions)) != len(positions):
                    return f"slide {slide.number}: two items have the same position"
            return None
        if isinstance(record, LinkRecord):
            for kind, slug in (("model", record.model), ("technique", record.technique)):
                if not self.exists(kind, slug):
                    return f"{kind} {slug!r} does not exist"
            return None
        if isinstance(record, SourceRecord | MentionRecord):
            return self._provenance(record)
        return None

    def _entity(self, kind: str, record: Any) -> str | None:
        spec = ENTITIES[kind]
        for name, (_, target) in spec.refs.items():
            slug = getattr(record, name)
            if slug is not None and not self.exists(target, slug):
                return f"{name.replace('_', ' ')}: {target} {slug!r} does not exist"
        if kind == "paper" and record.arxiv_id:
            arxiv = normal_arxiv(record.arxiv_id)
            owner = self.arxiv_seen.get(arxiv)
            if owner is None:
                db_owner = self.current.arxiv.get(arxiv)
                if (
                    db_owner not in (None, record.slug)
                    and normal_arxiv(str(self.arxiv_of.get(db_owner, arxiv))) == arxiv
                ):
                    owner = db_owner
            if owner is not None and owner != record.slug:
                return f"arXiv {arxiv} is paper {owner!r} already"
            self.arxiv_seen[arxiv] = record.slug
        parent_field = {"model": "derived_from", "technique": "refines"}.get(kind)
        if parent_field:
            if self._cyclic(kind, record.slug):
                return f"{parent_field.replace('_', ' ')}: this would make a cycle"
        return None

    def _cyclic(self, kind: str, slug: str) -> bool:
        """Does following parents from `slug` come back round? Each chain is walked once."""
        parents, acyclic = self.parents[kind], self.acyclic[kind]
        path: set[Any] = set()
        node: Any = slug
        while node is not None and node not in acyclic:
            if node in path:
                return True
            path.add(node)
            node = parents.get(node)
        acyclic |= path
        return False

    def _provenance(self, record: SourceRecord | MentionRecord) -> str | None:
        slide: tuple[str, int] | None
        if isinstance(record, MentionRecord):
            pairs = [(record.kind.value, record.slug)]
            slide = (record.deck, record.slide)
        else:
            pairs = [(record.subject_kind.value, record.subject)]
            if record.object_kind is not None and record.object is not None:
                pairs.append((record.object_kind.value, record.object))
            slide = (record.deck, record.slide) if record.deck and record.slide else None
        for kind, slug in pairs:
            if not self.exists(kind, slug):
                return f"{kind} {slug!r} does not exist"
        if slide is not None and not self.slide_exists(*slide):
            return f"deck {slide[0]!r} has no slide {slide[1]}"
        return None
