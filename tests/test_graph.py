"""GET /graph, /graph/neighbors and /graph/path: one edge view, seven formats, the CLI export."""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from typing import Any

import networkx as nx
import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session
from starlette.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.db import make_engine
from api.queries import graph as graph_queries
from api.queries import graph_formats
from api.routes.graph import graph_filter
from api.settings import Settings
from models import tables as t
from models.graph import GraphPath, GraphPublic, Neighborhood
from tests.databases import seed
from tests.helpers import assert_problem, counted_statements

GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"


def whole(client: TestClient, query: str = "") -> dict[str, Any]:
    response = client.get(f"/graph{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(items: list[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in items}


def triples(body: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(e["source"], e["relation"], e["target"]) for e in body["edges"]}


# --- the edge view -------------------------------------------------------------------------------


def test_the_whole_graph_holds_every_typed_relation_once(client: TestClient) -> None:
    body = whole(client)
    GraphPublic.model_validate(body)
    assert body["counts"] == {"nodes": len(body["nodes"]), "edges": len(body["edges"])}
    assert {n["kind"] for n in body["nodes"]} == {"lab", "paper", "model", "technique", "slide"}
    relations = {e["relation"] for e in body["edges"]}
    assert relations == {
        "developed_by", "described_in", "derived_from", "uses", "introduced",
        "proposed_in", "refines", "published_by", "mentions",
    }  # fmt: skip
    assert len(triples(body)) == len(body["edges"])
    assert all(e["source"] in ids(body["nodes"]) for e in body["edges"])
    assert all(e["target"] in ids(body["nodes"]) for e in body["edges"])
    edges = triples(body)
    assert ("model:deepseek-v2", "introduced", "technique:multi-head-latent-attention") in edges
    assert ("model:deepseek-v3", "uses", "technique:multi-head-latent-attention") in edges
    assert ("model:deepseek-v2", "uses", "technique:multi-head-latent-attention") not in edges
    assert ("technique:grouped-query-attention", "refines", "technique:multi-query-attention") in (
        edges
    )
    assert ("paper:arxiv-2405.04434", "published_by", "lab:deepseek") in edges
    # A link's role comes from the model-technique table: one edge per link, never both.
    links = [e for e in body["edges"] if e["relation"] in ("uses", "introduced")]
    assert len({(e["source"], e["target"]) for e in links}) == len(links) == 61
    assert all(e["sources"] for e in body["edges"])


def test_does_not_use_is_an_edge_only_when_asked(client: TestClient) -> None:
    assert "does_not_use" not in {e["relation"] for e in whole(client)["edges"]}
    negative = whole(client, "?relation=does_not_use")
    assert ("model:mixtral-8x7b", "does_not_use", "technique:sliding-window-attention") in (
        triples(negative)
    )
    assert all(e["sources"] for e in negative["edges"])


def test_mentions_go_from_a_slide_to_an_entity(client: TestClient) -> None:
    body = whole(client, "?relation=mentions")
    slide = next(n for n in body["nodes"] if n["kind"] == "slide")
    assert re.fullmatch(r"4-open-source-llm-milestones:\d+", slide["slug"])
    assert slide["url"] == "/decks/4-open-source-llm-milestones/slides/" + slide["slug"][29:]
    assert {e["source"].split(":")[0] for e in body["edges"]} == {"slide"}
    assert client.get(slide["url"]).status_code == 200


def test_filters_by_kind_lab_relation_and_dates(client: TestClient) -> None:
    body = whole(client, "?kind=model,technique")
    assert {n["kind"] for n in body["nodes"]} == {"model", "technique"}
    assert {e["relation"] for e in body["edges"]} == {
        "uses",
        "introduced",
        "derived_from",
        "refines",
    }
    deepseek = whole(client, "?lab=deepseek&kind=lab,model,paper")
    assert "lab:deepseek" in ids(deepseek["nodes"])
    assert all(n["lab"] in (None, "deepseek") for n in deepseek["nodes"] if n["kind"] == "model")
    uses = whole(client, "?relation=uses&from=2024&to=2024")
    models = {n["slug"]: n for n in uses["nodes"] if n["kind"] == "model"}
    assert set(models) == {"llama-3", "deepseek-v2", "gemma-2", "llama-3-1", "deepseek-v3"}
    assert {e["relation"] for e in uses["edges"]} == {"uses"}


def test_as_of_is_the_graph_as_it_stood_then(client: TestClient) -> None:
    body = whole(client, "?as_of=2024-06")
    models = {n["slug"] for n in body["nodes"] if n["kind"] == "model"}
    assert "deepseek-v2" in models and "gemma-2" in models
    assert "llama-3-1" not in models and "deepseek-v3" not in models
    assert all(n["date"] <= "2024-06-30" for n in body["nodes"] if n["date"])
    early = whole(client, "?as_of=2023-01&kind=technique,model")
    assert "technique:grouped-query-attention" not in ids(early["nodes"])
    assert "technique:multi-query-attention" in ids(early["nodes"])


@pytest.mark.parametrize(
    ("query", "param"),
    [("format=png", "format"), ("relation=likes", "relation"), ("kind=person", "kind"),
     ("as_of=mid-2024", "as_of"), ("from=2025&to=2024", "to"), ("format=dot&part=nodes", "part"),
     ("format=csv&part=slides", "part")],
)  # fmt: skip
def test_bad_graph_parameters_are_named(client: TestClient, query: str, param: str) -> None:
    assert_problem(client.get(f"/graph?{query}"), 422, param)


# --- neighbours and paths ------------------------------------------------------------------------


def test_neighbors_of_deepseek_v3(client: TestClient) -> None:
    response = client.get("/graph/neighbors/model/deepseek-v3")
    assert response.status_code == 200, response.text
    body = Neighborhood.model_validate(response.json()).model_dump()
    assert body["center"]["id"] == "model:deepseek-v3"
    near = ids(body["nodes"])
    for expected in ("lab:deepseek", "paper:arxiv-2412.19437",
                     "technique:fp8-mixed-precision-training", "model:deepseek-r1"):  # fmt: skip
        assert expected in near
    edges = {(e["source"], e["relation"], e["target"]): e for e in body["edges"]}
    derived = edges[("model:deepseek-r1", "derived_from", "model:deepseek-v3")]
    assert derived["sources"]
    assert all(n["distance"] == 1 for n in body["nodes"] if n["id"] != "model:deepseek-v3")
    lab = next(n for n in body["nodes"] if n["id"] == "lab:deepseek")
    assert (lab["kind"], lab["slug"], lab["name"], lab["url"]) == (
        "lab", "deepseek", "DeepSeek", "/labs/deepseek",
    )  # fmt: skip


def test_neighbors_deeper_and_by_relation(client: TestClient) -> None:
    one = client.get("/graph/neighbors/model/deepseek-v3").json()
    two = client.get("/graph/neighbors/model/deepseek-v3?depth=2").json()
    assert ids(one["nodes"]) < ids(two["nodes"])
    assert {n["distance"] for n in two["nodes"]} == {0, 1, 2}
    lineage = client.get("/graph/neighbors/model/llama?depth=3&relation=derived_from").json()
    assert {e["relation"] for e in lineage["edges"]} == {"derived_from"}
    assert "model:mistral-7b" in ids(lineage["nodes"])


def test_neighbor_errors(client: TestClient) -> None:
    assert_problem(client.get("/graph/neighbors/person/deepseek-v3"), 422, "kind")
    assert_problem(client.get("/graph/neighbors/model/deepseek-v3?depth=4"), 422, "depth")
    body = assert_problem(client.get("/graph/neighbors/model/deepseek-v4"), 404)
    assert "deepseek-v3" in body["suggestions"]


def test_the_path_from_llama_to_multi_head_latent_attention(client: TestClient) -> None:
    response = client.get(
        "/graph/path", params={"from": "model:llama", "to": "technique:multi-head-latent-attention"}
    )
    assert response.status_code == 200, response.text
    body = GraphPath.model_validate(response.json()).model_dump(by_alias=True)
    nodes = [n["id"] for n in body["nodes"]]
    assert nodes[0] == "model:llama" and nodes[-1] == "technique:multi-head-latent-attention"
    assert body["length"] == len(body["edges"]) == len(nodes) - 1 == 3
    for i, edge in enumerate(body["edges"]):
        assert {edge["source"], edge["target"]} == {nodes[i], nodes[i + 1]}
        assert edge["sources"]
    assert body["edges"][-1]["relation"] == "introduced"  # the last step reaches DeepSeek-V2


def test_no_path_within_the_depth_is_a_404_problem(client: TestClient) -> None:
    far = {"from": "model:llama", "to": "technique:multi-head-latent-attention", "max_depth": 2}
    body = assert_problem(client.get("/graph/path", params=far), 404)
    assert "No path" in body["detail"] and "within 2" in body["detail"]
    missing = client.get("/graph/path", params={"from": "model:lama", "to": "lab:meta"})
    assert "llama" in assert_problem(missing, 404)["suggestions"]
    assert_problem(
        client.get("/graph/path", params={"from": "llama", "to": "lab:meta"}), 422, "from"
    )
    too_deep = {"from": "model:llama", "to": "lab:meta", "max_depth": 9}
    assert_problem(client.get("/graph/path", params=too_deep), 422, "max_depth")
    assert_problem(client.get("/graph/path?from=model:llama"), 422, "to")


# --- formats: each read back with a real parser, the same counts in each -------------------------

DOT_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(->|[{}\[\];,=])|([A-Za-z_][\w.]*|-?\d+))')


def dot_statements(text: str) -> list[list[str]]:
    """A syntax check of the DOT we write: `digraph ID { stmt; … }`, each stmt a node, an edge
    or an attribute statement with an optional `[k=v, …]` list. Returns the statements' tokens."""
    tokens, pos = [], 0
    while pos < len(text.rstrip()):
        match = DOT_TOKEN.match(text, pos)
        assert match and match.end() > pos, f"bad DOT at {text[pos : pos + 40]!r}"
        tokens.append(match.group(match.lastindex or 0))
        pos = match.end()
    assert tokens[:3] == ["digraph", "paperkg", "{"] and tokens[-1] == "}"
    statements, current = [], []
    for token in tokens[3:-1]:
        if token == ";":
            statements.append(current)
            current = []
        else:
            current.append(token)
    assert not current, "a statement without its `;`"
    for stmt in statements:
        head = stmt[:3] if len(stmt) > 1 and stmt[1] == "->" else stmt[:1]
        rest = stmt[len(head) :]
        assert all(t not in "{}[];,=" for t in head), stmt
        if rest and rest != ["=", rest[-1]]:
            assert rest[0] == "[" and rest[-1] == "]", stmt
            pairs = " ".join(rest[1:-1]).split(" , ")
            assert all(re.fullmatch(r"\w+ = \S.*", p) for p in pairs), stmt
    return statements


def test_every_format_parses_and_counts_agree(client: TestClient) -> None:
    body = whole(client)
    n, e = len(body["nodes"]), len(body["edges"])

    graphml = client.get("/graph?format=graphml")
    assert graphml.headers["content-type"].startswith("application/graphml+xml")
    root = ET.fromstring(graphml.content)
    assert len(root.findall(f".//{GRAPHML}node")) == n
    assert len(root.findall(f".//{GRAPHML}edge")) == e
    read = nx.read_graphml(io.BytesIO(graphml.content), force_multigraph=True)
    assert (read.number_of_nodes(), read.number_of_edges()) == (n, e)
    assert read.nodes["model:deepseek-v2"]["name"] == "DeepSeek-V2"

    jsonld = client.get("/graph", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    doc = json.loads(jsonld.content)
    assert doc["@context"]["@vocab"] == "https://schema.org/"
    by_id = {item["@id"]: item for item in doc["@graph"]}
    assert len(by_id) == n
    relations = [k for k in doc["@context"] if not k.startswith("@") and "@type" in
                 doc["@context"][k]]  # fmt: skip
    assert sum(len(item.get(r, [])) for item in doc["@graph"] for r in relations) == e
    assert by_id["urn:paperkg:paper:arxiv-2405.04434"]["@type"] == "ScholarlyArticle"
    assert by_id["urn:paperkg:model:llama"]["@type"] == "SoftwareApplication"
    assert by_id["urn:paperkg:lab:meta"]["@type"] == "Organization"
    assert by_id["urn:paperkg:technique:rope"]["@type"] == "DefinedTerm"
    assert "urn:paperkg:lab:meta" in by_id["urn:paperkg:model:llama"]["developed_by"]

    cytoscape = client.get("/graph?format=cytoscape").json()["elements"]
    assert (len(cytoscape["nodes"]), len(cytoscape["edges"])) == (n, e)

    archive = zipfile.ZipFile(io.BytesIO(client.get("/graph?format=csv").content))
    assert sorted(archive.namelist()) == ["edges.csv", "nodes.csv"]
    nodes_csv = list(csv.DictReader(io.StringIO(archive.read("nodes.csv").decode())))
    edges_csv = list(csv.DictReader(io.StringIO(archive.read("edges.csv").decode())))
    assert (len(nodes_csv), len(edges_csv)) == (n, e)
    part = client.get("/graph?format=csv&part=edges")
    assert part.headers["content-type"].startswith("text/csv")
    assert list(csv.DictReader(io.StringIO(part.text))) == edges_csv

    dot = client.get("/graph", headers={"Accept": "text/vnd.graphviz"})
    assert dot.headers["content-type"].startswith("text/vnd.graphviz")
    statements = dot_statements(dot.text)
    assert sum(1 for s in statements if len(s) > 1 and s[1] == "->") == e
    assert sum(1 for s in statements if s[0].startswith('"') and s[1] == "[") == n

    mermaid = client.get("/graph?format=mermaid").text.splitlines()
    assert mermaid[0] == "graph LR"
    assert sum(bool(re.fullmatch(r'  n\d+\["[^"]*"\]', line)) for line in mermaid) == n
    assert sum(bool(re.fullmatch(r"  n\d+ -->\|\w+\| n\d+", line)) for line in mermaid) == e


def test_labels_are_escaped_in_every_markup() -> None:
    from api.queries.graph import Graph
    from api.queries.graph_formats import render

    name = 'A "quoted" <b>&</b> \\ name\nwith a line break'
    node = {"id": "model:x", "kind": "model", "slug": "x", "name": name, "url": "/models/x",
            "date": None, "lab": None, "category": None}  # fmt: skip
    edge = {"source": "model:x", "target": "model:x", "relation": "derived_from", "sources": []}
    graph = Graph([node], [edge])
    graphml = b"".join(render(graph, "graphml"))
    assert nx.read_graphml(io.BytesIO(graphml)).nodes["model:x"]["name"] == name
    dot = b"".join(render(graph, "dot")).decode()
    statements = dot_statements(dot)
    label = statements[2][statements[2].index("label") + 2]
    unquoted = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), label[1:-1])
    assert unquoted == name
    mermaid = b"".join(render(graph, "mermaid")).decode()
    assert '"' not in mermaid.splitlines()[1][6:-2] and "<b>" not in mermaid


def test_the_cli_exports_the_same_graph(client: TestClient, seeded_url: str) -> None:
    expected = whole(client, "?lab=deepseek")["counts"]
    result = CliRunner().invoke(
        app, ["graph", "--format", "graphml", "--lab", "deepseek", "--database-url", seeded_url]
    )
    assert result.exit_code == 0, result.output
    read = nx.read_graphml(io.BytesIO(result.stdout_bytes), force_multigraph=True)
    assert (read.number_of_nodes(), read.number_of_edges()) == (
        expected["nodes"], expected["edges"],
    )  # fmt: skip
    bad = CliRunner().invoke(app, ["graph", "--format", "png", "--database-url", seeded_url])
    assert bad.exit_code == 1 and "format" in bad.output


@pytest.mark.parametrize(
    ("url", "budget"),
    [("/graph?format=graphml", 4), ("/graph/neighbors/lab/meta?depth=3", 6),
     ("/graph/path?from=model:gpt-3&to=technique:thinking-budget", 8)],
)  # fmt: skip
def test_a_fixed_handful_of_statements_per_answer(
    client: TestClient, url: str, budget: int
) -> None:
    with counted_statements(client) as statements:
        assert client.get(url).status_code == 200, url
    assert len(statements) <= budget, (url, statements)


def test_a_walk_past_the_row_cap_is_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.queries import graph_walk

    monkeypatch.setattr(graph_walk, "ROW_CAP", 5)
    assert_problem(client.get("/graph/neighbors/lab/meta?depth=2"), 422, "depth")
    far = {"from": "lab:meta", "to": "lab:deepseek", "max_depth": 4}
    assert_problem(client.get("/graph/path", params=far), 422, "max_depth")


# --- streaming: the answer read in batches from one snapshot -------------------------------------

STREAM_FILTERS: list[dict[str, str]] = [
    {}, {"kind": "model,technique"}, {"lab": "deepseek", "kind": "lab,model,paper"},
    {"relation": "uses", "from": "2024", "to": "2024"}, {"as_of": "2024-06"},
    {"relation": "mentions,does_not_use"}, {"lab": "meta,mistral", "as_of": "2024"},
]  # fmt: skip
STREAM_FORMATS = [(f, None) for f in graph_formats.FORMATS if f != "csv"] + [
    ("csv", "nodes"), ("csv", "edges"),
]  # fmt: skip


@pytest.fixture(scope="module")
def unlimited(seeded_url: str) -> Iterator[TestClient]:
    """A client with no response cache and no rate limit: every answer is streamed afresh."""
    settings = Settings(database_url=seeded_url, cache="off", rate_limit_expensive="0")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def filter_of(params: dict[str, str]) -> graph_queries.GraphFilter:
    return graph_filter(
        kind=params.get("kind"), from_=params.get("from"), to=params.get("to"),
        as_of=params.get("as_of"), relation=params.get("relation"), lab=params.get("lab"),
    )  # fmt: skip


@pytest.mark.parametrize("params", STREAM_FILTERS)
def test_the_streamed_answer_is_the_loaded_one_in_every_format(
    unlimited: TestClient,
    seeded_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    params: dict[str, str],
) -> None:
    """Read in batches (here of 3 rows, so the seeded graph takes many), every format gives the
    bytes of the same graph loaded whole into memory."""
    monkeypatch.setattr(graph_queries, "BATCH", 3)
    with Session(seeded_engine) as session:
        loaded = graph_queries.load_graph(session, filter_of(params))
    assert loaded.nodes
    for fmt, part in STREAM_FORMATS:
        query = params | {"format": fmt} | ({"part": part} if part else {})
        response = unlimited.get("/graph", params=query)
        assert response.status_code == 200, response.text
        expected = b"".join(graph_formats.render(loaded, fmt, part))
        assert response.content == expected, (fmt, part, params)


def test_the_streamed_zip_is_the_one_written_whole(unlimited: TestClient) -> None:
    """Each member deflated as its rows come is what `ZipFile.writestr` makes of the whole CSV
    (as of the second the member was begun: a zip entry's time is when it was written)."""
    streamed = unlimited.get("/graph?format=csv&lab=deepseek").content
    infos = zipfile.ZipFile(io.BytesIO(streamed)).infolist()
    assert [info.filename for info in infos] == ["nodes.csv", "edges.csv"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in infos:
            part = info.filename.removesuffix(".csv")
            text = unlimited.get(f"/graph?format=csv&lab=deepseek&part={part}").text
            assert text.count("\n") > 2
            whole = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            whole.compress_type, whole.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
            archive.writestr(whole, text)
    assert streamed == buffer.getvalue()


@pytest.fixture
def seeded_copy(empty_url: str) -> Iterator[Engine]:
    """A seeded database of the test's own, to write to."""
    seed(empty_url)
    engine = make_engine(empty_url)
    yield engine
    engine.dispose()


def test_a_streamed_answer_is_one_snapshot(
    seeded_copy: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write made while the answer is being sent changes none of it: the counts at its head
    and the lists after it come from one state of the database."""
    monkeypatch.setattr(graph_formats, "CHUNK", 16)  # the first chunk: the counts, no list yet
    chunks = graph_formats.open_graph(seeded_copy, graph_queries.GraphFilter(), "json")
    head = next(chunks)
    assert head.startswith(b'{"counts":')
    with seeded_copy.begin() as connection:
        connection.execute(
            update(t.model).where(t.model.c.slug == "deepseek-r1").values(derived_from_id=None)
        )
    body = json.loads(head + b"".join(chunks))
    assert body["counts"] == {"nodes": len(body["nodes"]), "edges": len(body["edges"])}
    assert ("model:deepseek-r1", "derived_from", "model:deepseek-v3") in triples(body)
    again = json.loads(
        b"".join(graph_formats.open_graph(seeded_copy, graph_queries.GraphFilter(), "json"))
    )
    assert ("model:deepseek-r1", "derived_from", "model:deepseek-v3") not in triples(again)
    assert again["counts"]["edges"] == body["counts"]["edges"] - 1
