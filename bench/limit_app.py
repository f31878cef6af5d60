"""The limit of our own stack: a bare Starlette app, hand-written SQL, orjson, no framework.

It answers four of paperkg's questions with the same JSON content, querying on every request:

    GET /models/{slug}                             one model with lab, paper, techniques, sources
    GET /models?limit=50                           a page of models (first page, with `next`)
    GET /timeline?limit=50                         a page of timeline events (first page)
    GET /techniques/{slug}/introduced-by           who introduced a technique, and its adopters

Serve it on the same uvicorn as paperkg:

    PAPERKG_DATABASE_URL=sqlite:///bench.db uvicorn bench.limit_app:app --port 8001

SQLite is read with `sqlite3`, PostgreSQL (`postgresql+psycopg://...`) with psycopg; one
connection, used on the event loop: a primary-key read costs less than a thread hop.
"""

import base64
import os
import re
import sqlite3
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Row = dict[str, Any]

MODEL = """
SELECT m.id, m.slug, m.name, m.family, m.release_date, m.date_precision, m.open_weights,
       m.parameters, m.active_parameters, m.sizes, m.context_length, m.license, m.summary,
       m.derivation, m.created_at, m.updated_at,
       l.slug AS lab_slug, l.name AS lab_name,
       p.slug AS paper_slug, p.title AS paper_title, p.arxiv_id AS paper_arxiv_id,
       d.slug AS parent_slug, d.name AS parent_name
FROM model m
LEFT JOIN lab l ON l.id = m.lab_id
LEFT JOIN paper p ON p.id = m.paper_id
LEFT JOIN model d ON d.id = m.derived_from_id
"""
MODEL_BY_SLUG = MODEL + " WHERE m.slug = :slug"
MODEL_PAGE = MODEL + " ORDER BY m.release_date ASC NULLS LAST, m.slug ASC NULLS LAST LIMIT :limit"
ROLE = """CASE WHEN mt.relation = 'uses' AND t.proposed_in_id IS NOT NULL
               AND t.proposed_in_id = m.paper_id THEN 'introduced' ELSE mt.relation END"""
MODEL_TECHNIQUES = f"""
SELECT t.id, t.slug, t.name, t.category, {ROLE} AS role
FROM technique t JOIN model_technique mt ON mt.technique_id = t.id
JOIN model m ON m.id = mt.model_id
WHERE mt.model_id = :id ORDER BY t.name
"""
SOURCES = """
SELECT s.subject_id, s.predicate, s.object_kind, s.object_id, s.kind, s.quote, s.reference,
       s.reference_id, s.note, sl.number, sl.title AS slide_title, dk.slug AS deck
FROM source s LEFT JOIN slide sl ON sl.id = s.slide_id LEFT JOIN deck dk ON dk.id = sl.deck_id
WHERE s.subject_kind = :kind AND s.subject_id IN ({ids})
ORDER BY s.subject_id, s.kind DESC, sl.number, s.id
"""
SLIDES = """
SELECT dk.slug AS deck, sl.number, sl.title
FROM slide_mention sm JOIN slide sl ON sl.id = sm.slide_id JOIN deck dk ON dk.id = sl.deck_id
WHERE sm.entity_kind = :kind AND sm.entity_id = :id ORDER BY dk.slug, sl.number
"""
TIMELINE = """
SELECT * FROM (
  SELECT m.release_date AS date, m.date_precision, 'model' AS kind, m.slug, m.name, m.summary,
         NULL AS authors, l.slug AS lab_slug, l.name AS lab_name
  FROM model m LEFT JOIN lab l ON l.id = m.lab_id WHERE m.release_date IS NOT NULL
  UNION ALL
  SELECT p.published_date, p.date_precision, 'paper', p.slug, p.title, p.key_idea, p.authors,
         l.slug, l.name
  FROM paper p LEFT JOIN lab l ON l.id = p.lab_id WHERE p.published_date IS NOT NULL
  UNION ALL
  SELECT p.published_date, p.date_precision, 'technique', t.slug, t.name, t.description, NULL,
         l.slug, l.name
  FROM technique t JOIN paper p ON p.id = t.proposed_in_id LEFT JOIN lab l ON l.id = p.lab_id
  WHERE p.published_date IS NOT NULL
) AS event
ORDER BY date ASC NULLS LAST, kind ASC NULLS LAST, slug ASC NULLS LAST LIMIT :limit
"""
TECHNIQUE = """
SELECT t.id, t.slug, t.name, t.category, t.aliases, t.description,
       p.slug AS paper_slug, p.title AS paper_title, p.arxiv_id AS paper_arxiv_id,
       p.published_date AS paper_date, p.date_precision AS paper_precision,
       pl.slug AS paper_lab_slug, pl.name AS paper_lab_name
FROM technique t LEFT JOIN paper p ON p.id = t.proposed_in_id
LEFT JOIN lab pl ON pl.id = p.lab_id
WHERE t.slug = :slug
"""
TECHNIQUE_LINKS = f"""
SELECT m.id, m.slug, m.name, m.release_date, m.date_precision, l.slug AS lab_slug,
       l.name AS lab_name, {ROLE} AS role
FROM model_technique mt JOIN model m ON m.id = mt.model_id
JOIN technique t ON t.id = mt.technique_id LEFT JOIN lab l ON l.id = m.lab_id
WHERE mt.technique_id = :id ORDER BY m.release_date ASC NULLS LAST, m.slug ASC
"""
VERBS = {"model": "released", "paper": "published", "technique": "proposed"}


class Database:
    """One connection; `rows(sql, **params)` -> dicts, the same SQL on SQLite and PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            self.connection: Any = sqlite3.connect(url.split("///", 1)[1], check_same_thread=False)
            self.connection.row_factory = sqlite3.Row
            self.paramstyle: Callable[[str], str] = lambda sql: sql
        else:
            import psycopg
            from psycopg.rows import dict_row

            conninfo = re.sub(r"^postgresql\+\w+://", "postgresql://", url)
            self.connection = psycopg.connect(conninfo, autocommit=True, row_factory=dict_row)
            self.paramstyle = lambda sql: re.sub(r":(\w+)", r"%(\1)s", sql)
        self._sql: dict[str, str] = {}

    def rows(self, sql: str, **params: Any) -> list[Row]:
        text = self._sql.get(sql)
        if text is None:
            text = self._sql[sql] = self.paramstyle(sql)
        if self.sqlite:
            return [dict(row) for row in self.connection.execute(text, params)]
        return list(self.connection.execute(text, params, prepare=True))

    def close(self) -> None:
        self.connection.close()


def iso(value: Any, precision: str | None) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else value.isoformat()
    return text[:4] if precision == "year" else text[:7] if precision == "month" else text


def timestamp(value: Any) -> Any:
    """Stored in UTC: SQLite's text `2026-11-30 14:25:14.727246` as paperkg writes it out."""
    return value.replace(" ", "T") + "+00:00" if isinstance(value, str) else value


def link(kind: str, slug: str | None, name: str | None, **extra: Any) -> Row | None:
    if slug is None:
        return None
    return {"slug": slug, "name": name, "url": f"/{kind}s/{slug}", **extra}


def model_item(r: Row) -> Row:
    return {
        "slug": r["slug"],
        "name": r["name"],
        "url": f"/models/{r['slug']}",
        "family": r["family"],
        "release_date": iso(r["release_date"], r["date_precision"]),
        "date_precision": r["date_precision"],
        "open_weights": bool(r["open_weights"]),
        "parameters": r["parameters"],
        "active_parameters": r["active_parameters"],
        "sizes": r["sizes"],
        "context_length": r["context_length"],
        "license": r["license"],
        "summary": r["summary"],
        "lab": link("lab", r["lab_slug"], r["lab_name"]),
        "paper": link("paper", r["paper_slug"], r["paper_title"], arxiv_id=r["paper_arxiv_id"]),
        "derived_from": link(
            "model", r["parent_slug"], r["parent_name"], derivation=r["derivation"]
        ),
    }


def source_json(r: Row) -> Row:
    if r["kind"] == "slide":
        return {
            "about": r["predicate"], "kind": "slide", "deck": r["deck"], "slide": r["number"],
            "title": r["slide_title"], "quote": r["quote"], "note": r["note"],
            "url": f"/decks/{r['deck']}/slides/{r['number']}",
        }  # fmt: skip
    return {
        "about": r["predicate"], "kind": "reference", "source": r["reference"],
        "reference_id": r["reference_id"], "note": r["note"],
    }  # fmt: skip


def sources_of(db: Database, kind: str, ids: list[int]) -> dict[int, list[Row]]:
    """id -> source rows (with `json`), for many subjects in one query."""
    out: dict[int, list[Row]] = defaultdict(list)
    if not ids:
        return out
    sql = SOURCES.replace("{ids}", ", ".join(str(int(i)) for i in ids))
    for row in db.rows(sql, kind=kind):
        row["json"] = source_json(row)
        out[row["subject_id"]].append(row)
    return out


def link_sources(rows: list[Row], technique_id: int) -> list[Row]:
    return [
        r["json"]
        for r in rows
        if r["object_kind"] == "technique" and r["object_id"] == technique_id
    ]


def cursor(values: list[Any]) -> str:
    raw = orjson.dumps([v.isoformat() if isinstance(v, date) else v for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page(request: Request, items: list[Row], last: list[Any] | None) -> Response:
    if last is None:
        return json({"items": items, "next": None})
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    url = f"{request.url.path}?{urlencode([*params, ('cursor', cursor(last))])}"
    return json({"items": items, "next": url}, headers={"link": f'<{url}>; rel="next"'})


def json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
    return Response(body, status, headers, media_type="application/json")


def not_found() -> Response:
    return json({"status": 404, "title": "Not found"}, 404)


def limit_of(request: Request) -> int:
    return min(max(int(request.query_params.get("limit", 50)), 1), 500)


async def read_model(request: Request) -> Response:
    db: Database = request.app.state.db
    slug = request.path_params["slug"]
    found = db.rows(MODEL_BY_SLUG, slug=slug)
    if not found:
        return not_found()
    row = found[0]
    sources = sources_of(db, "model", [row["id"]]).get(row["id"], [])
    techniques = [
        {"slug": t["slug"], "name": t["name"], "url": f"/techniques/{t['slug']}",
         "category": t["category"], "role": t["role"], "sources": link_sources(sources, t["id"])}
        for t in db.rows(MODEL_TECHNIQUES, id=row["id"])
    ]  # fmt: skip
    slides = [
        {"deck": s["deck"], "number": s["number"], "title": s["title"],
         "url": f"/decks/{s['deck']}/slides/{s['number']}"}
        for s in db.rows(SLIDES, kind="model", id=row["id"])
    ]  # fmt: skip
    return json(
        model_item(row)
        | {
            "techniques": techniques,
            "slides": slides,
            "sources": [s["json"] for s in sources if s["object_kind"] != "technique"],
            "links": {
                "lineage": f"/models/{slug}/lineage",
                "introduced": f"/models/{slug}/introduced",
                "techniques": f"/models/{slug}/techniques",
            },
            "created_at": timestamp(row["created_at"]),
            "updated_at": timestamp(row["updated_at"]),
        }
    )


async def list_models(request: Request) -> Response:
    db: Database = request.app.state.db
    limit = limit_of(request)
    rows = db.rows(MODEL_PAGE, limit=limit + 1)
    last = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = [rows[-1]["release_date"], rows[-1]["slug"]]
    return page(request, [model_item(r) for r in rows], last)


def one_line(text: str | None, limit: int = 160) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.—-") + "…"


async def timeline(request: Request) -> Response:
    db: Database = request.app.state.db
    limit = limit_of(request)
    rows = db.rows(TIMELINE, limit=limit + 1)
    last = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = [rows[-1]["date"], rows[-1]["kind"], rows[-1]["slug"]]
    items = []
    for r in rows:
        summary = r["summary"] or (f"First author: {r['authors']}" if r["authors"] else None)
        items.append(
            {
                "date": iso(r["date"], r["date_precision"]),
                "date_precision": r["date_precision"],
                "kind": r["kind"],
                "title": f"{r['name']} {VERBS[r['kind']]}",
                "summary": one_line(summary),
                "lab": link("lab", r["lab_slug"], r["lab_name"]),
                "entity": {"kind": r["kind"], "slug": r["slug"], "name": r["name"],
                           "url": f"/{r['kind']}s/{r['slug']}"},
            }
        )  # fmt: skip
    return page(request, items, last)


def model_link(r: Row) -> Row:
    return {
        "slug": r["slug"],
        "name": r["name"],
        "url": f"/models/{r['slug']}",
        "release_date": iso(r["release_date"], r["date_precision"]),
        "date_precision": r["date_precision"],
        "lab": link("lab", r["lab_slug"], r["lab_name"]),
    }


async def introduced_by(request: Request) -> Response:
    db: Database = request.app.state.db
    found = db.rows(TECHNIQUE, slug=request.path_params["slug"])
    if not found:
        return not_found()
    t = found[0]
    links = db.rows(TECHNIQUE_LINKS, id=t["id"])
    sources = sources_of(db, "model", [r["id"] for r in links])
    own = sources_of(db, "technique", [t["id"]]).get(t["id"], [])

    def entry(r: Row, **extra: Any) -> Row:
        return model_link(r) | extra | {"sources": link_sources(sources.get(r["id"], []), t["id"])}

    adopters = [entry(r, role=r["role"]) for r in links if r["role"] != "does_not_use"]
    paper = None
    if t["paper_slug"] is not None:
        paper = {
            "slug": t["paper_slug"], "name": t["paper_title"],
            "url": f"/papers/{t['paper_slug']}", "arxiv_id": t["paper_arxiv_id"],
            "title": t["paper_title"], "published_date": iso(t["paper_date"], t["paper_precision"]),
            "date_precision": t["paper_precision"],
            "lab": link("lab", t["paper_lab_slug"], t["paper_lab_name"]),
            "sources": [s["json"] for s in own if s["json"]["about"] == "proposed_in"],
        }  # fmt: skip
    aliases = t["aliases"]
    if isinstance(aliases, str):
        aliases = orjson.loads(aliases)
    not_used = (entry(r) for r in links if r["role"] == "does_not_use")
    return json(
        {
            "technique": {
                "slug": t["slug"],
                "name": t["name"],
                "url": f"/techniques/{t['slug']}",
                "category": t["category"],
                "aliases": aliases or [],
                "description": t["description"],
            },  # fmt: skip
            "proposed_in": paper,
            "introduced_by": [entry(r) for r in links if r["role"] == "introduced"],
            "first_adopter": (
                {k: v for k, v in adopters[0].items() if k != "sources"} if adopters else None
            ),
            "adopters": adopters,
            "not_used_by": [e for e in not_used if e["sources"]],
        }
    )


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    url = os.environ.get("PAPERKG_DATABASE_URL", "sqlite:///paperkg.db")
    app.state.db = Database(url)
    yield
    app.state.db.close()


app = Starlette(
    routes=[
        Route("/models", list_models),
        Route("/models/{slug}", read_model),
        Route("/timeline", timeline),
        Route("/techniques/{slug}/introduced-by", introduced_by),
    ],
    lifespan=lifespan,
)
