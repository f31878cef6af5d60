"""The graph in every export format: small functions from a `GraphReader` to chunks of text.

Each renderer reads the graph as it writes (a node or an edge at a time), so with a
`GraphStream` under it the answer streams in constant memory, whatever the size of the graph:
`open_graph` reads one snapshot of the database in batches. The CSV zip is the one answer staged
before its first byte (in a temporary file, not in memory): a zip member's header carries its
checksum and sizes. JSON-LD `@id`s are URNs, `urn:paperkg:<kind>:<slug>`: stable wherever the
service runs, while each node's `url` is the API path to fetch it from.
"""

import csv
import io
import itertools
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import orjson
from sqlalchemy import Engine

from api.queries.graph import GraphFilter, GraphReader, GraphStream, snapshot
from api.queries.graph_items import Node
from api.responses import CHUNK, chunked

FORMATS = ("json", "cytoscape", "graphml", "jsonld", "csv", "dot", "mermaid")
MEDIA_TYPES = {
    "json": "application/json",
    "cytoscape": "application/json",
    "graphml": "application/graphml+xml",
    "jsonld": "application/ld+json",
    "csv": "application/zip",
    "dot": "text/vnd.graphviz; charset=utf-8",
    "mermaid": "text/plain; charset=utf-8",
}
ACCEPT = {
    "application/graphml+xml": "graphml",
    "application/ld+json": "jsonld",
    "text/csv": "csv",
    "application/zip": "csv",
    "text/vnd.graphviz": "dot",
    "text/vnd.mermaid": "mermaid",
}
NODE_COLUMNS = ("id", "kind", "slug", "name", "url", "date", "lab", "category")
EDGE_COLUMNS = ("source", "target", "relation", "sources")
SCHEMA_TYPES = {
    "paper": "ScholarlyArticle",
    "model": "SoftwareApplication",
    "lab": "Organization",
    "technique": "DefinedTerm",
    "slide": "PresentationDigitalDocument",
}
VOCAB = "urn:paperkg:vocab:"


def negotiate(accept: str) -> str:
    """The export format an `Accept` header asks for (JSON when it names none of them)."""
    for media, fmt in ACCEPT.items():
        if media in accept:
            return fmt
    return "json"


def _json_items(head: bytes, groups: Iterable[tuple[bytes, Iterable[Any]]]) -> Iterator[bytes]:
    yield head
    for opening, items in groups:
        yield opening
        for i, item in enumerate(items):
            yield (b"," if i else b"") + orjson.dumps(item)
        yield b"]"
    yield b"}"


def to_json(graph: GraphReader) -> Iterator[bytes]:
    """`{"counts": {...}, "nodes": [...], "edges": [...]}`, the default."""
    nodes, edges = graph.counts()
    counts = orjson.dumps({"nodes": nodes, "edges": edges})
    return _json_items(
        b'{"counts":' + counts,
        [(b',"nodes":[', graph.iter_nodes()), (b',"edges":[', graph.iter_edges())],
    )


def to_cytoscape(graph: GraphReader) -> Iterator[bytes]:
    """Cytoscape.js elements: `{"elements": {"nodes": [{data}], "edges": [{data}]}}`."""
    nodes = ({"data": {**n, "label": n["name"]}} for n in graph.iter_nodes())
    edges = (
        {"data": {"id": f"e{i}", **{k: v for k, v in e.items() if k != "sources"},
                  "sources": len(e["sources"])}}
        for i, e in enumerate(graph.iter_edges())
    )  # fmt: skip
    yield b'{"elements":'
    yield from _json_items(b"{", [(b'"nodes":[', nodes), (b',"edges":[', edges)])
    yield b"}"


def urn(node_id: str) -> str:
    return "urn:paperkg:" + node_id


def jsonld_context() -> dict[str, Any]:
    relations = ("developed_by", "described_in", "derived_from", "uses", "introduced",
                 "proposed_in", "refines", "published_by", "mentions", "does_not_use")  # fmt: skip
    context: dict[str, Any] = {"@vocab": "https://schema.org/", "pkg": VOCAB}
    context |= {r: {"@id": VOCAB + r, "@type": "@id"} for r in relations}
    context |= {"kind": VOCAB + "kind", "slug": VOCAB + "slug", "date": VOCAB + "date"}
    return context


def jsonld_item(n: Node, links: list[tuple[str, str]]) -> dict[str, Any]:
    """A node as a JSON-LD object; its edges out, by relation, are properties holding URNs."""
    doc: dict[str, Any] = {"@id": urn(n["id"]), "@type": SCHEMA_TYPES[n["kind"]]}
    doc |= {"kind": n["kind"], "slug": n["slug"], "name": n["name"], "url": n["url"]}
    if n["date"]:
        doc["date"] = n["date"]
    for relation, target in links:
        doc.setdefault(relation, []).append(urn(target))
    return doc


def to_jsonld(graph: GraphReader) -> Iterator[bytes]:
    """JSON-LD: schema.org types, `urn:paperkg:` ids; each edge a property of its source."""
    head = b'{"@context":' + orjson.dumps(jsonld_context())
    items = (jsonld_item(n, links) for n, links in graph.iter_links())
    return _json_items(head, [(b',"@graph":[', items)])


def source_ref(source: dict[str, Any]) -> str:
    """One source in a line: `deck#slide` or the reference."""
    if source["kind"] == "slide":
        return f"{source['deck']}#{source['slide']}"
    return str(source.get("source") or source.get("reference_id") or "")


def _rows(columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def csv_nodes(graph: GraphReader) -> Iterator[str]:
    return _rows(NODE_COLUMNS, graph.iter_nodes())


def csv_edges(graph: GraphReader) -> Iterator[str]:
    """One edge a row; `sources` joins its sources with ` | `."""
    rows = (
        {**e, "sources": " | ".join(source_ref(s) for s in e["sources"])}
        for e in graph.iter_edges()
    )
    return _rows(EDGE_COLUMNS, rows)


def to_zip(graph: GraphReader) -> Iterator[bytes]:
    """`nodes.csv` and `edges.csv` in one zip (deflated, the sizes in each member's header).

    A member's header comes before its data and holds its CRC and sizes, so the archive is
    written to a temporary file first, each member as its rows come, and then sent from there.
    """
    with tempfile.TemporaryFile() as staged:
        with zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, lines in (("nodes.csv", csv_nodes(graph)), ("edges.csv", csv_edges(graph))):
                # What `ZipFile.writestr(name, text)` would write, without holding the text.
                info = zipfile.ZipInfo(name, date_time=time.localtime(time.time())[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                with archive.open(info, "w") as member:
                    for text in _joined(lines):
                        member.write(text.encode())
        staged.seek(0)
        while chunk := staged.read(CHUNK):
            yield chunk


def _joined(pieces: Iterable[str]) -> Iterator[str]:
    """Runs of small strings joined into pieces of about `CHUNK` characters."""
    run: list[str] = []
    size = 0
    for piece in pieces:
        run.append(piece)
        size += len(piece)
        if size >= CHUNK:
            yield "".join(run)
            run, size = [], 0
    if run:
        yield "".join(run)


def to_graphml(graph: GraphReader) -> Iterator[str]:
    """GraphML (Gephi, yEd, networkx): node and edge attributes as typed keys."""
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
    for name in NODE_COLUMNS[1:]:
        yield f'  <key id="{name}" for="node" attr.name="{name}" attr.type="string"/>\n'
    yield '  <key id="label" for="node" attr.name="label" attr.type="string"/>\n'
    yield '  <key id="relation" for="edge" attr.name="relation" attr.type="string"/>\n'
    yield '  <key id="sources" for="edge" attr.name="sources" attr.type="string"/>\n'
    yield '  <graph id="paperkg" edgedefault="directed">\n'
    for n in graph.iter_nodes():
        data = "".join(
            f'<data key="{k}">{escape(str(n[k]))}</data>' for k in NODE_COLUMNS[1:] if n[k]
        )
        label = f'<data key="label">{escape(str(n["name"]))}</data>'
        yield f"    <node id={quoteattr(n['id'])}>{data}{label}</node>\n"
    for i, e in enumerate(graph.iter_edges()):
        refs = escape(" | ".join(source_ref(s) for s in e["sources"]))
        yield (
            f'    <edge id="e{i}" source={quoteattr(e["source"])} target={quoteattr(e["target"])}>'
            f'<data key="relation">{escape(e["relation"])}</data>'
            f'<data key="sources">{refs}</data></edge>\n'
        )
    yield "  </graph>\n</graphml>\n"


def dot_quote(value: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, line breaks as `\\n`."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'


def to_dot(graph: GraphReader) -> Iterator[str]:
    """Graphviz DOT: a `digraph`, nodes shaped by kind, edges labelled with their relation."""
    shapes = {"lab": "house", "paper": "note", "model": "box", "technique": "ellipse",
              "slide": "tab"}  # fmt: skip
    yield "digraph paperkg {\n  rankdir=LR;\n  node [fontname=Helvetica];\n"
    for n in graph.iter_nodes():
        label = dot_quote(n["name"] or n["slug"])
        yield f"  {dot_quote(n['id'])} [label={label}, shape={shapes[n['kind']]}];\n"
    for e in graph.iter_edges(sources=False):
        yield f"  {dot_quote(e['source'])} -> {dot_quote(e['target'])} [label={e['relation']}];\n"
    yield "}\n"


def mermaid_label(value: str) -> str:
    """Text for a Mermaid `["…"]` label: quotes and markup as entity codes, one line."""
    for char, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        value = value.replace(char, code)
    return " ".join(value.split())


def to_mermaid(graph: GraphReader) -> Iterator[str]:
    """A Mermaid `graph LR` block; nodes get short ids (`n0`, `n1` …, by their place in the
    node list) and quoted labels."""
    yield "graph LR\n"
    for i, n in enumerate(graph.iter_nodes()):
        yield f'  n{i}["{mermaid_label(n["name"] or n["slug"])}"]\n'
    for source, relation, target in graph.iter_numbered_edges():
        yield f"  n{source} -->|{relation}| n{target}\n"


def open_graph(
    engine: Engine, where: GraphFilter, fmt: str, part: str | None = None
) -> Iterator[bytes]:
    """This part of the graph in `fmt`, read from one snapshot as it is sent, in chunks of about
    64 KB. Connects and runs the first query now, so a dead database fails before any byte is
    sent; the connection closes when the chunks end or are dropped."""
    chunks = _streamed(engine, where, fmt, part)
    first = next(chunks, b"")
    return itertools.chain([first], chunks)


def _streamed(engine: Engine, where: GraphFilter, fmt: str, part: str | None) -> Iterator[bytes]:
    connection = snapshot(engine)
    try:
        yield from chunked(render(GraphStream(connection, where), fmt, part), CHUNK)
    finally:
        connection.close()


def render(graph: GraphReader, fmt: str, part: str | None = None) -> Iterator[bytes]:
    """The graph in `fmt` (for `csv`, one `part` as CSV, or both in a zip), as bytes chunks."""
    if fmt == "csv" and part is not None:
        return _encoded(csv_nodes(graph) if part == "nodes" else csv_edges(graph))
    chunks: dict[str, Any] = {
        "json": to_json, "cytoscape": to_cytoscape, "jsonld": to_jsonld, "csv": to_zip,
        "graphml": to_graphml, "dot": to_dot, "mermaid": to_mermaid,
    }  # fmt: skip
    produced = chunks[fmt](graph)
    return produced if fmt in ("json", "cytoscape", "jsonld", "csv") else _encoded(produced)


def _encoded(chunks: Iterable[str]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode()


def media_type(fmt: str, part: str | None = None) -> str:
    if fmt == "csv" and part is not None:
        return "text/csv; charset=utf-8"
    return MEDIA_TYPES[fmt]
