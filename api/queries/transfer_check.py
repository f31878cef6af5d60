"""Read and check an import document: shapes, references, uniqueness, cycles.

Records are checked in document order (decks, labs, papers, models, techniques, links, sources,
mentions), and the first bad one stops the import with a 422 naming it:
`models[3] (slug 'x'): lab 'nope' does not exist`. A reference resolves when the document or the
database holds its target. The import writes each list as it is checked, in one transaction:
the first bad record rolls everything back.

A document file in export's layout (one record per line) is read list by list from the file,
never whole (`read_file`); any other JSON document is parsed whole.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.queries import transfer
from api.queries.transfer_schema import (
    ENTITIES,
    FORMAT,
    LISTS,
    NUL_FREE,
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
PARENT = {"model": "derived_from", "technique": "refines"}


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


class Lists:
    """A document's lists of raw records, read list by list (a list may be read again)."""

    data_version: int = 0
    size: int = 0  # records in all lists (slides not counted)
    nul_free = False  # no string anywhere in it holds a NUL character

    def records(self, name: str) -> Iterator[Any]:
        raise NotImplementedError


class InMemory(Lists):
    """A document already parsed (a request body, or a file not in the export's layout)."""

    def __init__(self, document: Any) -> None:
        self.lists = header(document)
        self.data_version = int(document.get("data_version", 0))
        self.size = sum(len(records) for records in self.lists.values())

    def records(self, name: str) -> Iterator[Any]:
        return iter(self.lists[name])


class DocumentFile(Lists):
    """A document file in the layout export writes: one record per line, lists on lines of
    their own. The decks are held parsed; every other list is read again from the file, line
    by line, whenever it is read: memory holds a few records at a time, never the document.
    """

    def __init__(self, path: Path, held: dict[str, list[Any]], streamed: dict[str, tuple[int, int]],
                 head: dict[str, Any], *, nul_free: bool) -> None:  # fmt: skip
        self.path, self.held, self.streamed = path, held, streamed
        self.nul_free = nul_free
        header(head | {name: [] for name in (*held, *streamed)})
        self.data_version = int(head.get("data_version", 0))
        self.size = sum(map(len, held.values())) + sum(n for _, n in streamed.values())

    def records(self, name: str) -> Iterator[Any]:
        if name in self.held:
            return iter(self.held[name])
        if name in self.streamed:
            return self._stream(*self.streamed[name])
        return iter(())

    def _stream(self, offset: int, count: int) -> Iterator[Any]:
        with self.path.open("rb") as handle:
            handle.seek(offset)
            for _ in range(count):
                line = handle.readline()
                try:
                    yield orjson.loads(_record_text(line))
                except orjson.JSONDecodeError as error:
                    raise NotJson(f"{error} (in {line[:80]!r})") from error


STREAMED = LISTS[1:]  # every list but the decks (whose slides span lines): one record a line
LIST_START = re.compile(rb'"([a-z]+)":\[(\],?)?\n')
LIST_END = (b"]\n", b"],\n")
TWO_RECORDS = re.compile(rb"\}\s*,\s*\{")
NUL = b"\\u0000"  # how JSON writes a NUL character (also found after an escaped backslash)
MAX_RECORD_LINES = 10_000  # a record over more lines than this is not the export's layout


class NotJson(ValueError):
    """The file is not a JSON document."""


def read_file(path: Path) -> Lists:
    """The lists of a document file: streamed when it has the export's layout (memory stays
    bounded by the entities, whatever the number of links and sources), else parsed whole."""
    with path.open("rb") as handle:
        found = _scan(path, handle)
    if found is not None:
        return found
    try:
        document = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as error:
        raise NotJson(str(error)) from error
    return InMemory(document)


def _record_text(line: bytes) -> bytes:
    return line[:-2] if line.endswith(b",\n") else line[:-1] if line.endswith(b"\n") else line


def _scan(path: Path, handle: BinaryIO) -> DocumentFile | None:
    """Check the layout once through the file (the decks parsed and held, the other lists'
    lines only looked at); None when the file is laid out in any other way."""
    first = handle.readline()
    if not (first.startswith(b"{") and first.endswith(b",\n")):
        return None
    try:
        head = orjson.loads(first[:-2] + b"}")
    except orjson.JSONDecodeError:
        return None
    if not isinstance(head, dict) or set(head) & set(LISTS):
        return None
    held: dict[str, list[Any]] = {}
    streamed: dict[str, tuple[int, int]] = {}
    nul_free = NUL not in first
    while True:
        start = LIST_START.fullmatch(handle.readline())
        if start is None:
            return None
        name = start[1].decode()
        if name not in LISTS or name in held or name in streamed:
            return None
        offset, records = handle.tell(), list[Any]()
        last = start[2] == b"]"
        if not start[2]:
            if name in STREAMED:
                read = _skip_list(handle)
            else:
                read = _read_list(handle, records)
            if read is None:
                return None
            count, last, nul_free = read[0], read[1], nul_free and read[2]
            if name in STREAMED:
                streamed[name] = (offset, count)
        if name not in STREAMED:
            held[name] = records
        if last:
            break
    if handle.read().strip() != b"}":
        return None
    return DocumentFile(path, held, streamed, head, nul_free=nul_free)


def _read_list(handle: BinaryIO, records: list[Any]) -> tuple[int, bool, bool] | None:
    """Records up to the list's `]`, parsed into `records` (a record may span lines): how
    many, whether it was the last list (no comma after `]`), and whether none held `\\u0000`."""
    count, buffer, lines, ended, nul_free = 0, b"", 0, True, True  # ended: no comma after it
    for line in handle:
        if not buffer and line in LIST_END:
            if count and not ended:
                return None  # a comma before `]`
            return count, line == b"]\n", nul_free
        if not buffer and count and ended:
            return None  # two records without a comma between them
        buffer, lines = buffer + line, lines + 1
        if lines > MAX_RECORD_LINES:
            return None
        if not (buffer.startswith(b"{") and buffer.endswith((b"}\n", b"},\n"))):
            continue
        try:
            records.append(orjson.loads(_record_text(buffer)))
        except orjson.JSONDecodeError:
            continue
        nul_free = nul_free and NUL not in buffer
        count, ended, buffer, lines = count + 1, not buffer.endswith(b",\n"), b"", 0
    return None


def _skip_list(handle: BinaryIO) -> tuple[int, bool, bool] | None:
    """As `_read_list`, for a list of one-line records that are not kept (nor parsed: a line
    that is not JSON stops the import when it is read). A line that might hold two records
    (`}, {`) is not the layout."""
    count, ended, nul_free = 0, True, True  # ended: no comma after the last record
    two_records = TWO_RECORDS.search
    for line in handle:
        if line in LIST_END:
            if count and not ended:
                return None  # a comma before `]`
            return count, line == b"]\n", nul_free
        if (count and ended) or line[:1] != b"{":
            return None
        if two_records(line) is not None and not _one_value(line):
            return None
        if line.endswith(b"},\n"):
            ended = False
        elif line.endswith(b"}\n"):
            ended = True
        else:
            return None
        nul_free = nul_free and NUL not in line
        count += 1
    return None


def _one_value(line: bytes) -> bool:
    """Is this line one JSON value (its `}, {` inside a string), not two records?"""
    try:
        orjson.loads(line.rstrip(b"\n").removesuffix(b","))
    except orjson.JSONDecodeError:
        return False
    return True


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


def _label(raw: Any) -> str:
    if not isinstance(raw, dict):
        return ""
    for names in (("slug",), ("model", "technique"), ("subject_kind", "subject")):
        if all(isinstance(raw.get(n), str) for n in names):
            return " (" + ", ".join(f"{n} {raw[n]!r}" for n in names) + ")"
    return ""


def _where(name: str, index: int, raw: Any) -> str:
    return f"{name}[{index}]{_label(raw)}"


def _validate(
    schema: type[Record], raw: Any, name: str, index: int, context: dict[str, bool] | None
) -> Any:
    try:
        return schema.model_validate(raw, context=context)
    except ValidationError as error:
        first = error.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        problem = f"{loc}: {first['msg']}" if loc else first["msg"]
        raise DocumentError(_where(name, index, raw), problem) from error


def _key(name: str, record: Any) -> Any:
    if name in KIND_OF or name == "decks":
        return record.slug
    if name == "links":
        return (record.model, record.technique)
    if name == "mentions":
        return (record.deck, record.slide, record.kind.value, record.slug)
    return None  # sources are a multiset: the same source twice is two rows


class Checker:
    """Checks records in document order; `records(name)` yields a list's records, checked."""

    def __init__(self, lists: Lists, current: Current) -> None:
        self.lists, self.current = lists, current
        # What references may name, read once through each list (not kept): slugs, arXiv ids,
        # slides, and the lineage as it will be (the database's, overridden by the document's).
        self.slugs: dict[str, set[Any]] = {kind: set() for kind in ENTITIES}
        self.arxiv_of: dict[Any, Any] = {}
        self.parents: dict[str, dict[Any, Any]] = {
            kind: {s: r[column] for s, r in current.entities[kind].items()}
            for kind, column in PARENT.items()
        }
        for kind, spec in ENTITIES.items():
            slugs, parents, column = self.slugs[kind], self.parents.get(kind), PARENT.get(kind)
            # Raw records, before validation: keep only values of the right type (a list where a
            # slug should be is reported by the record's own check, not as a crash here).
            for raw in lists.records(spec.plural):
                if not isinstance(raw, dict) or not isinstance(slug := raw.get("slug"), str):
                    continue
                slugs.add(slug)
                if kind == "paper":
                    self.arxiv_of[slug] = raw.get("arxiv_id")
                if parents is not None:
                    parent = raw.get(column)
                    parents[slug] = parent if isinstance(parent, str) else None
        self.arxiv_seen: dict[str, str] = {}
        self.slides = {
            (d["slug"], s["number"])
            for d in lists.records("decks")
            if isinstance(d, dict)
            and isinstance(d.get("slug"), str)
            and isinstance(d.get("slides"), list)
            for s in d["slides"]
            if isinstance(s, dict) and isinstance(s.get("number"), int)
        }
        self.acyclic: dict[str, set[Any]] = {"model": set(), "technique": set()}

    def records(self, name: str) -> Iterator[Any]:
        """The list's records, each validated and checked; a DocumentError for the first bad one.

        Duplicates are found without keeping every key while the keys come in increasing order
        (as export writes them); from the first key out of order on, every key is kept.
        """
        schema = RECORDS[name]
        seen: dict[Any, int] | None = None
        last: Any = None
        context = NUL_FREE if self.lists.nul_free else None
        for index, raw in enumerate(self.lists.records(name)):
            record = _validate(schema, raw, name, index, context)
            key = _key(name, record)
            if key is not None:
                if seen is None and last is not None and not last < key:
                    seen = self._keys(name, index)
                if seen is not None:
                    first = seen.setdefault(key, index)
                    if first != index:
                        where = _where(name, index, raw)
                        raise DocumentError(where, f"a duplicate of {name}[{first}]")
                last = key
            problem = self.problem(name, record)
            if problem:
                raise DocumentError(_where(name, index, raw), problem)
            yield record

    def _keys(self, name: str, stop: int) -> dict[Any, int]:
        """The keys of the list's first `stop` records (all valid), each at its first index."""
        keys: dict[Any, int] = {}
        for index, raw in zip(range(stop), self.lists.records(name), strict=False):
            keys.setdefault(_key(name, RECORDS[name].model_validate(raw)), index)
        return keys

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
