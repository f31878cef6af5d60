"""The questions that must not slow down as the graph grows read indexes, never a whole table.

A generated graph of 20,000 models and 200,000 technique links is served; the SQL each endpoint
actually runs is captured from the engine and explained (`EXPLAIN QUERY PLAN` on SQLite,
`EXPLAIN (FORMAT JSON)` on PostgreSQL). A plan fails when it reads every row of a large table:

- SQLite: `SCAN <table>`, or `SCAN <table> USING [COVERING] INDEX` unless that index walk is cut
  short by the statement's LIMIT (no full `USE TEMP B-TREE FOR ORDER BY` after it);
- PostgreSQL: a `Seq Scan` node on the table.

Large: model, model_technique, source, paper, search_document. Scanning lab, technique, deck,
slide, slide_mention and data_version is allowed: they grow with the number of labs and ideas
(1 lab per 500 models, 1 technique per 100 here), not with models, links or sources, and a
planner rightly prefers a scan of a few hundred rows to an index.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import sql
from sqlalchemy import Engine, event
from starlette.testclient import TestClient

from api import generate
from api.app import create_app
from api.db import make_engine
from api.settings import Settings
from tests.databases import fresh_database

MODELS, LINKS_PER_MODEL = 20_000, 10
LARGE = {"model", "model_technique", "source", "paper", "search_document"}

QUESTIONS = [
    pytest.param("/timeline?limit=50", id="timeline"),
    pytest.param("/timeline?limit=50&order=desc&kind=model", id="timeline-desc"),
    pytest.param("/models?lab=meta&technique=grouped-query-attention", id="models-lab-technique"),
    pytest.param("/models?lab=lab-00003&technique=technique-00000", id="models-big-lab"),
    pytest.param("/models?limit=50", id="models-page"),
    pytest.param("/techniques/multi-head-latent-attention/introduced-by", id="introduced-by"),
    pytest.param("/techniques/technique-00150/introduced-by", id="introduced-by-generated"),
    pytest.param("/models/llama-2/lineage", id="lineage"),
    pytest.param("/models/beruve-009999/lineage", id="lineage-generated"),
    pytest.param("/search?q=latent", id="search"),
    pytest.param("/search?q=kalo", id="search-generated"),
]  # fmt: skip


@pytest.fixture(scope="module")
def big_app(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with fresh_database(dialect, tmp_path_factory.mktemp("plans")) as url:
        engine = make_engine(url)
        generate.generate(engine, models=MODELS, links_per_model=LINKS_PER_MODEL)
        engine.dispose()
        with TestClient(create_app(Settings(database_url=url, cache="off"))) as client:
            yield client


def captured_sql(client: TestClient, url: str) -> list[tuple[str, Any]]:
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    assert statements, url
    return statements


def sqlite_full_scans(engine: Engine, statement: str, parameters: Any) -> list[str]:
    with engine.connect() as connection:
        db: Any = connection.connection.driver_connection
        plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + statement, parameters)]
    tables = aliases(statement)
    limited = " LIMIT " in statement.upper() and "USE TEMP B-TREE FOR ORDER BY" not in plan
    scans = []
    for detail in plan:
        match = re.match(r"SCAN (\w+)(?: USING (?:COVERING )?INDEX \w+)?$", detail)
        if not match or tables.get(match.group(1)) not in LARGE:
            continue
        if "USING" in detail and limited:
            continue  # an index walk in the LIMIT's order stops after the page
        scans.append(detail)
    return scans


def aliases(statement: str) -> dict[str, str]:
    """Name or alias in the FROM clause -> table."""
    found = {name: name for name in re.findall(r"(?:FROM|JOIN) (\w+)", statement)}
    found |= {
        alias: table for table, alias in re.findall(r"(?:FROM|JOIN) (\w+) AS (\w+)", statement)
    }
    return found


def postgres_full_scans(engine: Engine, statement: str, parameters: Any) -> list[str]:
    """Seq Scans in the plan made for these values, and in the plan made for any values.

    psycopg prepares a statement after 5 executions, and PostgreSQL may then reuse one generic
    plan for every value (unless the connection has `plan_cache_mode = force_custom_plan`):
    that plan is run (EXPLAIN ANALYZE EXECUTE) and fails when it scans a
    large table, or walks an index of one without a condition past a tenth of the models.
    """
    with engine.connect() as connection:
        db: Any = connection.connection.driver_connection
        with db.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            custom = cursor.fetchone()[0][0]["Plan"]
            cursor.execute("SHOW plan_cache_mode")
            custom_only = cursor.fetchone()[0] == "force_custom_plan"
        if custom_only:
            return [f"Seq Scan on {node['Relation Name']}" for node in large(custom, "Seq Scan")]
        generic = generic_plan(db, statement, parameters)
    found = [f"Seq Scan on {node['Relation Name']}" for node in large(custom, "Seq Scan")]
    found += [
        f"generic plan: Seq Scan on {node['Relation Name']}" for node in large(generic, "Seq Scan")
    ]
    for node in large(generic, "Index Scan", "Index Only Scan"):
        rows = node["Actual Rows"] * node["Actual Loops"]
        if "Index Cond" not in node and rows > MODELS // 10:
            found.append(
                f"generic plan: {node['Node Type']} on {node['Relation Name']}, {rows} rows"
            )
    return found


def large(plan: dict[str, Any], *types: str) -> Iterator[dict[str, Any]]:
    """The nodes of these types that read a large table."""
    for node in nodes(plan):
        if node["Node Type"] in types and node.get("Relation Name") in LARGE:
            yield node


def generic_plan(db: Any, statement: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The plan PostgreSQL makes once for every value of the parameters, run on these."""
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", statement)
    values = sql.SQL(", ").join(sql.Literal(parameters[name]) for name in names)
    execute: sql.Composable = sql.SQL("EXECUTE plan_check")
    if names:
        execute = sql.SQL("EXECUTE plan_check({})").format(values)
    with db.transaction(force_rollback=True), db.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("PREPARE plan_check AS " + numbered.replace("%%", "%"))
        cursor.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) {}").format(execute))
        plan: dict[str, Any] = cursor.fetchone()[0][0]["Plan"]
        cursor.execute("DEALLOCATE plan_check")
    return plan


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@pytest.mark.parametrize("url", QUESTIONS)
def test_no_full_scan_of_a_large_table(big_app: TestClient, url: str) -> None:
    engine: Engine = big_app.app.state.engine  # type: ignore[attr-defined]
    explain = sqlite_full_scans if engine.dialect.name == "sqlite" else postgres_full_scans
    scans = {
        " ".join(statement.split())[:200]: found
        for statement, parameters in captured_sql(big_app, url)
        if (found := explain(engine, statement, parameters))
    }
    assert not scans, scans
