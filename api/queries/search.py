"""Full-text search, type-ahead and identifier resolution, and the index they read.

`search_document` holds one document per entity or slide (models/search.py); `reindex` builds
them from the graph. The full-text index over it differs by dialect (migration
`search_index`): an FTS5 table on SQLite, a GIN index over `search_document_vector(...)` on
PostgreSQL. Only the statements below that name them differ; the rest is shared.

User input never reaches full-text syntax: `words` keeps runs of letters and digits, and each
word becomes a quoted prefix term, bound as a parameter.
"""

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Row,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from api.db import Db
from api.errors import NotFound
from api.queries.common import url_of
from models import tables as t
from models.search import FTS_TABLE_PREFIX as FTS_TABLE
from models.search import SEARCH_KINDS, SearchDocument
from seed.parse import plain_text

document = cast(Table, SearchDocument.__table__)  # type: ignore[attr-defined]

ENTITY_KINDS = ("lab", "paper", "model", "technique")
MAX_WORDS = 16  # words past the 16th are ignored: a query stays cheap whatever is typed
MARK_START, MARK_END, ELLIPSIS = "«", "»", "…"  # as written in the SQL below
TERM_SEPARATOR = " · "
WORD = re.compile(r"[^\W_]+")  # what both full-text tokenizers keep: letters and digits

SQLITE_SEARCH = text("""
    SELECT d.kind, d.slug, d.number, d.name,
           -bm25(search_fts, 10.0, 5.0, 1.0) AS score,
           snippet(search_fts, -1, '«', '»', '…', 16) AS snippet,
           NULL AS context
    FROM search_fts
    JOIN search_document AS d ON d.id = search_fts.rowid
    WHERE search_fts MATCH :match AND d.kind IN :kinds
    ORDER BY score DESC, d.kind, d.name, d.number
    LIMIT :limit
""").bindparams(bindparam("kinds", expanding=True))

# The headline is the costly part: it is made for the page of hits only, from the text that
# matched (body before terms before name). `to_tsquery` in FROM folds to a constant, which the
# GIN index over search_document_vector(...) answers.
POSTGRES_SEARCH = text("""
    WITH top AS (
        SELECT d.kind, d.slug, d.number, d.name, d.terms, d.body, query,
               ts_rank(search_document_vector(d.name, d.terms, d.body), query) AS score
        FROM search_document AS d, to_tsquery('simple', :match) AS query
        WHERE search_document_vector(d.name, d.terms, d.body) @@ query AND d.kind IN :kinds
        ORDER BY score DESC, d.kind, d.name, d.number
        LIMIT :limit
    ),
    hit AS (
        SELECT top.*,
               CASE WHEN search_document_vector('', '', body) @@ query THEN body
                    WHEN search_document_vector('', terms, '') @@ query THEN terms
                    ELSE name END AS context
        FROM top
    )
    SELECT kind, slug, number, name, score, context,
           ts_headline('simple', context, query,
                       'StartSel=«, StopSel=», MaxWords=20, MinWords=8, MaxFragments=1') AS snippet
    FROM hit
    ORDER BY score DESC, kind, name, number
""").bindparams(bindparam("kinds", expanding=True))

# Whole-string prefixes of a name, slug or alias come first, then labs, models, techniques,
# papers, shorter names first. `{source}` and `{match}` are the dialect's (constants only).
AUTOCOMPLETE = """
    SELECT d.kind, d.slug, d.name
    FROM {source}
    WHERE {match} AND d.kind IN :kinds
    ORDER BY
        CASE WHEN lower(d.name) LIKE :prefix ESCAPE '\\'
               OR lower(d.terms) LIKE :prefix ESCAPE '\\'
               OR lower(d.terms) LIKE :inner_prefix ESCAPE '\\' THEN 0 ELSE 1 END,
        CASE d.kind WHEN 'lab' THEN 0 WHEN 'model' THEN 1 WHEN 'technique' THEN 2 ELSE 3 END,
        length(d.name), d.name
    LIMIT :limit
"""
SQLITE_AUTOCOMPLETE = text(
    AUTOCOMPLETE.format(
        source="search_fts JOIN search_document AS d ON d.id = search_fts.rowid",
        match="search_fts MATCH :match",
    )
).bindparams(bindparam("kinds", expanding=True))
POSTGRES_AUTOCOMPLETE = text(
    AUTOCOMPLETE.format(
        source="search_document AS d, to_tsquery('simple', :match) AS query",
        match="search_document_vector(d.name, d.terms, d.body) @@ query",
    )
).bindparams(bindparam("kinds", expanding=True))


def words(q: str) -> list[str]:
    """The words of a query: runs of letters and digits, lowercased, each once, at most 16."""
    return list(dict.fromkeys(word.lower() for word in WORD.findall(q)))[:MAX_WORDS]


def fts5_match(terms: Sequence[str], *, columns: Sequence[str] = ()) -> str:
    """`"mixtr"* "8x"*`: every word a quoted prefix, all required; `columns` limits where."""
    phrase = " ".join('"' + term.replace('"', '""') + '"*' for term in terms)
    return "{" + " ".join(columns) + "} : (" + phrase + ")" if columns else phrase


def tsquery(terms: Sequence[str], *, weights: str = "") -> str:
    """`'mixtr':* & '8x':*` for to_tsquery; `weights` ("AB": name, terms) limits where."""
    quoted = ("'" + term.replace("\\", "\\\\").replace("'", "''") + "'" for term in terms)
    return " & ".join(f"{term}:*{weights}" for term in quoted)


def _is_sqlite(db: Db) -> bool:
    bind = db.engine if isinstance(db, Connection) else db.get_bind()
    return bind.dialect.name == "sqlite"


def search(
    db: Db, q: str, *, kinds: Sequence[str] = SEARCH_KINDS, limit: int = 20
) -> list[dict[str, Any]]:
    """Entities and slides holding every word of `q` (as a prefix), best first, with a snippet."""
    terms = words(q)
    if not terms:
        return []
    if _is_sqlite(db):
        stmt, match = SQLITE_SEARCH, fts5_match(terms)
    else:
        stmt, match = POSTGRES_SEARCH, tsquery(terms)
    params = {"match": match, "kinds": list(kinds), "limit": limit}
    return [_hit(row) for row in db.execute(stmt, params)]


def _hit(row: Row[Any]) -> dict[str, Any]:
    if row.kind == "slide":
        url = f"/decks/{row.slug}/slides/{row.number}"
    else:
        url = url_of(row.kind, row.slug)
    return {
        "kind": row.kind,
        "slug": row.slug,
        "number": row.number,
        "name": row.name,
        "url": url,
        "score": round(float(row.score), 6),
        "snippet": _snippet(row.snippet, row.context),
    }


def _snippet(snippet: str, context: str | None) -> str:
    """One line; where it was cut from a longer `context`, an ellipsis says so."""
    snippet = " ".join(snippet.split())
    if context is None:  # FTS5 marks the cuts itself
        return snippet
    plain, whole = snippet.replace(MARK_START, "").replace(MARK_END, ""), " ".join(context.split())
    head = "" if whole.startswith(plain) else ELLIPSIS
    tail = "" if whole.endswith(plain) else ELLIPSIS
    return head + snippet + tail


def autocomplete(
    db: Db, q: str, *, kinds: Sequence[str] = ENTITY_KINDS, limit: int = 10
) -> list[dict[str, Any]]:
    """Entities whose name, slug or alias has words starting with the words of `q`."""
    terms = words(q)
    if not terms:
        return []
    if _is_sqlite(db):
        stmt, match = SQLITE_AUTOCOMPLETE, fts5_match(terms, columns=("name", "terms"))
    else:
        stmt, match = POSTGRES_AUTOCOMPLETE, tsquery(terms, weights="AB")
    prefix = re.sub(r"([\\%_])", r"\\\1", " ".join(q.lower().split())) + "%"
    params = {
        "match": match,
        "kinds": [kind for kind in kinds if kind in ENTITY_KINDS],
        "prefix": prefix,
        "inner_prefix": "%" + TERM_SEPARATOR + prefix,
        "limit": limit,
    }
    return [
        {"kind": r.kind, "slug": r.slug, "name": r.name, "url": url_of(r.kind, r.slug)}
        for r in db.execute(stmt, params)
    ]


ARXIV_ID = re.compile(
    r"^(?:arxiv:\s*|https?://arxiv\.org/(?:abs|pdf)/)?"
    r"(\d{4}\.\d{4,5}|[a-z-]+(?:\.[a-z]{2})?/\d{7})(?:v\d+)?(?:\.pdf)?$",
    re.IGNORECASE,
)
# When one slug names entities of several kinds, the first kind here wins.
RESOLVE_ORDER = {"model": t.model, "technique": t.technique, "paper": t.paper, "lab": t.lab}


def resolve(db: Db, key: str) -> dict[str, str]:
    """Where an arXiv id (`arxiv:2407.21783`, `2407.21783v2`) or a slug of any kind leads."""
    key = key.strip()
    slug, arxiv = key.lower(), ARXIV_ID.match(key)
    lookups = [
        select(literal(kind).label("kind"), table.c.slug).where(table.c.slug == slug)
        for kind, table in RESOLVE_ORDER.items()
    ]
    if arxiv:
        by_arxiv_id = t.paper.c.arxiv_id == arxiv.group(1)
        lookups.append(select(literal("paper").label("kind"), t.paper.c.slug).where(by_arxiv_id))
    found = {row.kind: row.slug for row in db.execute(union_all(*lookups))}
    if not found:
        everything = union_all(*(select(table.c.slug) for table in RESOLVE_ORDER.values()))
        raise NotFound("entity", key, candidates=list(db.execute(everything).scalars()))
    kind = next(kind for kind in RESOLVE_ORDER if kind in found)
    return {"kind": kind, "slug": found[kind], "url": url_of(kind, found[kind])}


# Reindexing: what each kind's document is made of, read straight from the graph.

DOCUMENT_COLUMNS = ("slug", "number", "name", "terms", "body")
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
TABLE_RULE = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|?)+\s*$", re.MULTILINE)
LINE_MARK = re.compile(r"^\s*(?:>|[-*+]\s)", re.MULTILINE)


def _document_rows(kind: str) -> Select[Any]:
    """The columns a kind's documents are made of, the entity's id as `id`."""
    if kind == "lab":
        return select(t.lab.c.id, t.lab.c.slug, t.lab.c.name)
    if kind == "paper":
        p = t.paper
        return select(
            p.c.id, p.c.slug, p.c.title.label("name"), p.c.arxiv_id, p.c.authors, p.c.key_idea
        )
    if kind == "model":
        m = t.model
        return select(m.c.id, m.c.slug, m.c.name, m.c.family, m.c.summary, m.c.sizes)
    if kind == "technique":
        tq = t.technique
        return select(tq.c.id, tq.c.slug, tq.c.name, tq.c.aliases, tq.c.description, tq.c.category)
    if kind == "slide":
        s = t.slide
        return select(s.c.id, t.deck.c.slug, s.c.number, s.c.title.label("name"), s.c.body).join(
            t.deck, t.deck.c.id == s.c.deck_id
        )
    raise ValueError(f"no search documents of kind {kind!r}")


def _document(kind: str, row: Row[Any]) -> dict[str, Any]:
    terms: list[str | None]
    body: list[str | None]
    if kind == "lab":
        terms, body = [row.slug], []
    elif kind == "paper":
        arxiv = f"arXiv:{row.arxiv_id}" if row.arxiv_id else None
        terms, body = [row.slug, arxiv], [row.authors, row.key_idea]
    elif kind == "model":
        terms, body = [row.slug, row.family], [row.summary, row.sizes]
    elif kind == "technique":
        terms, body = [row.slug, *(row.aliases or [])], [row.description, row.category]
    else:
        terms, body = [], [slide_text(row.body)]
    return {
        "slug": row.slug,
        "number": row.number if kind == "slide" else None,
        "name": row.name,
        "terms": _joined(terms),
        "body": _joined(body),
    }


def _joined(parts: Iterable[str | None]) -> str:
    """The non-empty parts, each once (ignoring case), in order."""
    unique: dict[str, str] = {}
    for part in parts:
        if part and part.strip():
            unique.setdefault(part.strip().lower(), part.strip())
    return TERM_SEPARATOR.join(unique.values())


def slide_text(markdown: str) -> str:
    """A slide's text as read: no title heading (it is the name), no markup, links as text."""
    lines = markdown.strip().splitlines()
    if lines and HEADING.match(lines[0]):
        lines = lines[1:]
    text_ = TABLE_RULE.sub(" ", "\n".join(lines))
    text_ = LINE_MARK.sub(" ", HEADING.sub("", text_)).replace("|", " ")
    return plain_text(text_)


REINDEX_CHUNK = 20_000  # ids reindexed at a time: memory holds this many documents at most


def reindex(session: Session, kind: str, ids: Iterable[int] | None = None) -> Counter[str]:
    """Make the documents of `kind` (those of `ids`, or all) match the graph; count the changes.

    Cheap for one entity: one select from its table, one from the index, one write. Each
    document depends on its own row only (a slide's also on its deck's slug), so many ids are
    done `REINDEX_CHUNK` at a time.
    """
    if ids is None:
        return _reindex(session, kind, None)
    wanted_ids = sorted(set(ids))  # `ids` may be an iterator: read it once
    changes: Counter[str] = Counter()
    for start in range(0, len(wanted_ids), REINDEX_CHUNK):
        changes.update(_reindex(session, kind, wanted_ids[start : start + REINDEX_CHUNK]))
    return changes


def _reindex(session: Session, kind: str, ids: Iterable[int] | None) -> Counter[str]:
    stmt, d = _document_rows(kind), document
    have_stmt = select(d.c.id, d.c.entity_id, *(d.c[c] for c in DOCUMENT_COLUMNS))
    have_stmt = have_stmt.where(d.c.kind == kind)
    if ids is not None:
        wanted_ids = sorted(set(ids))
        if not wanted_ids:
            return Counter()
        stmt = stmt.where(stmt.selected_columns.id.in_(wanted_ids))
        have_stmt = have_stmt.where(d.c.entity_id.in_(wanted_ids))
    wanted = {row.id: _document(kind, row) for row in session.execute(stmt)}
    have = {row.entity_id: row._mapping for row in session.execute(have_stmt)}
    changes: Counter[str] = Counter()
    gone = [row["id"] for entity_id, row in have.items() if entity_id not in wanted]
    if gone:
        session.execute(delete(d).where(d.c.id.in_(gone)))
        changes["search_document deleted"] += len(gone)
    fresh = [{"kind": kind, "entity_id": i, **doc} for i, doc in wanted.items() if i not in have]
    if fresh:
        _insert_documents(session, fresh)
        changes["search_document inserted"] += len(fresh)
    for entity_id, doc in wanted.items():
        current = have.get(entity_id)
        if current is not None and any(current[c] != doc[c] for c in DOCUMENT_COLUMNS):
            session.execute(update(d).where(d.c.id == current["id"]).values(**doc))
            changes["search_document updated"] += 1
    return changes


BULK_DOCUMENTS = 1000  # from this many new documents on, they go in in bulk (_insert_documents)
FTS_INSERT_TRIGGER = "search_document_after_insert"


def _insert_documents(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert new documents; many at once by COPY on PostgreSQL.

    On SQLite, many at once go in with the full-text insert trigger suspended, then into the
    full-text index with one INSERT … SELECT: a trigger firing row by row costs about ten times
    as much. The trigger is made again as it was, in the same transaction (a rollback restores
    it too), so only inside a write transaction already open (outside one, pysqlite would
    commit the DDL at once; inside, no other writer can come between)."""
    connection = session.connection()
    trigger = None
    driver: Any = connection.connection.driver_connection
    columns = ("kind", "entity_id", *DOCUMENT_COLUMNS)
    if len(rows) >= BULK_DOCUMENTS and connection.dialect.name == "postgresql":
        # COPY: the fastest way in for many rows (the same index upkeep as an INSERT).
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY search_document ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(tuple(row[c] for c in columns))
        return
    if (
        len(rows) >= BULK_DOCUMENTS
        and connection.dialect.name == "sqlite"
        and getattr(driver, "in_transaction", False)
    ):
        trigger = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
            (FTS_INSERT_TRIGGER,),
        ).scalar()
    if trigger is None:
        session.execute(insert(document), rows)
        return
    first = int(connection.execute(select(func.coalesce(func.max(document.c.id), 0))).scalar_one())
    first += 1
    connection.exec_driver_sql(f'DROP TRIGGER "{FTS_INSERT_TRIGGER}"')
    try:
        connection.exec_driver_sql(  # plain values (text and whole numbers): to the driver as is
            f"INSERT INTO search_document (id, {', '.join(columns)}) "
            f"VALUES (?, {', '.join('?' * len(columns))})",
            [(first + n, *(row[c] for c in columns)) for n, row in enumerate(rows)],
        )
        connection.exec_driver_sql(
            f"INSERT INTO {FTS_TABLE} (rowid, name, terms, body) "
            "SELECT id, name, terms, body FROM search_document WHERE id BETWEEN ? AND ?",
            (first, first + len(rows) - 1),
        )
    finally:
        # Even if a caller catches the error and commits: the index must keep its trigger.
        connection.exec_driver_sql(trigger)


def refresh_search_index(session: Session) -> Counter[str]:
    """Bring every search document in line with the graph (changed rows only); count changes."""
    changes: Counter[str] = Counter()
    for kind in SEARCH_KINDS:
        changes.update(reindex(session, kind))
    return changes
