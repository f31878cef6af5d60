"""The graph view: every typed relation as an edge between `kind:slug` nodes.

Nothing is stored twice. Nodes are a `UNION ALL` over the entity tables and the slides; edges a
`UNION ALL` over the foreign keys and link tables, with the `uses` / `introduced` role of a
model-technique link decided by `role_expr()`. A `does_not_use` link is a sourced negative fact,
not an edge, unless it is asked for by name.
"""

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import repeat
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Engine,
    Select,
    String,
    Subquery,
    and_,
    cast,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    union,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import NamedFromClause

from api.queries.common import role_expr, used_by_then
from api.queries.graph_items import Edge, Node, edge_json, edge_sources, node_id, node_json
from models import tables as t

NODE_KINDS = ("lab", "paper", "model", "technique", "slide")
RELATIONS = (
    "developed_by",
    "described_in",
    "derived_from",
    "uses",
    "introduced",
    "proposed_in",
    "refines",
    "published_by",
    "mentions",
    "does_not_use",
)
DEFAULT_RELATIONS = tuple(r for r in RELATIONS if r != "does_not_use")


def text(value: str, label: str) -> ColumnElement[str]:
    # Inline SQL text, not a bound parameter: both databases then type the column as text.
    return literal_column(f"'{value}'", String).label(label)


def null(label: str) -> ColumnElement[Any]:
    return literal_column("NULL", String).label(label)


def node_union() -> Subquery:
    """Every node, one row each: kind, id, slug, name, date, precision, lab slug, category."""
    m, p, tech, lab, sl = t.model, t.paper, t.technique, t.lab, t.slide
    labs = select(
        text("lab", "kind"),
        lab.c.id,
        lab.c.slug,
        lab.c.name,
        literal_column("NULL", Date).label("date"),
        null("date_precision"),
        lab.c.slug.label("lab"),
        null("category"),
    )
    papers = select(
        text("paper", "kind"), p.c.id, p.c.slug, p.c.title, p.c.published_date,
        p.c.date_precision, lab.c.slug, null("category"),
    ).outerjoin(lab, lab.c.id == p.c.lab_id)  # fmt: skip
    models = select(
        text("model", "kind"), m.c.id, m.c.slug, m.c.name, m.c.release_date,
        m.c.date_precision, lab.c.slug, null("category"),
    ).outerjoin(lab, lab.c.id == m.c.lab_id)  # fmt: skip
    # A technique is dated by its proposing paper: it exists in the graph from then on.
    techniques = select(
        text("technique", "kind"), tech.c.id, tech.c.slug, tech.c.name, p.c.published_date,
        p.c.date_precision, null("lab"), tech.c.category,
    ).outerjoin(p, p.c.id == tech.c.proposed_in_id)  # fmt: skip
    slides = select(
        text("slide", "kind"), sl.c.id, t.deck.c.slug + ":" + cast(sl.c.number, String),
        sl.c.title, literal_column("NULL", Date), null("date_precision"), null("lab"),
        null("category"),
    ).join(t.deck, t.deck.c.id == sl.c.deck_id)  # fmt: skip
    return labs.union_all(papers, models, techniques, slides).subquery("node")


def _pair(
    source: str, source_id: Any, relation: Any, target: str, target_id: Any
) -> list[ColumnElement[Any]]:
    relation_column = relation if not isinstance(relation, str) else text(relation, "relation")
    return [
        text(source, "source_kind"),
        source_id.label("source_id"),
        relation_column.label("relation"),
        text(target, "target_kind"),
        target_id.label("target_id"),
    ]


# A foreign key as an edge: (relation, table, source kind, column, target kind).
FOREIGN_KEYS = (
    ("developed_by", t.model, "model", "lab_id", "lab"),
    ("described_in", t.model, "model", "paper_id", "paper"),
    ("derived_from", t.model, "model", "derived_from_id", "model"),
    ("proposed_in", t.technique, "technique", "proposed_in_id", "paper"),
    ("refines", t.technique, "technique", "refines_id", "technique"),
    ("published_by", t.paper, "paper", "lab_id", "lab"),
)


def edge_union(relations: tuple[str, ...] = DEFAULT_RELATIONS) -> Subquery:
    """Every edge of these relations: (source kind, id, relation, target kind, id)."""
    m, tech, mt, sm = t.model, t.technique, t.model_technique, t.slide_mention
    parts: list[Select[Any]] = [
        select(*_pair(kind, table.c.id, relation, target, table.c[column])).where(
            table.c[column].is_not(None)
        )
        for relation, table, kind, column, target in FOREIGN_KEYS
        if relation in relations
    ]
    roles = [r for r in ("uses", "introduced", "does_not_use") if r in relations]
    if roles:
        role = role_expr()
        parts.append(
            select(*_pair("model", mt.c.model_id, role, "technique", mt.c.technique_id))
            .select_from(mt)
            .join(m, m.c.id == mt.c.model_id)
            .join(tech, tech.c.id == mt.c.technique_id)
            .where(role.in_(roles))
        )
    if "mentions" in relations:
        parts.append(
            select(
                text("slide", "source_kind"),
                sm.c.slide_id.label("source_id"),
                text("mentions", "relation"),
                sm.c.entity_kind.label("target_kind"),
                sm.c.entity_id.label("target_id"),
            )
        )
    first, *rest = parts
    return first.union_all(*rest).subquery("edge")


@dataclass(frozen=True)
class NodeFilter:
    """Which nodes exist: of these kinds, dated in [start, end], and as the graph stood `as_of`."""

    kinds: tuple[str, ...] = NODE_KINDS
    start: date | None = None
    end: date | None = None
    as_of: date | None = None


def node_where(n: Subquery, where: NodeFilter) -> list[ColumnElement[bool]]:
    """The conditions on `node_union()` rows for this filter."""
    dated = n.c.kind.in_(("model", "paper"))
    conditions: list[ColumnElement[bool]] = []
    if where.kinds != NODE_KINDS:
        conditions.append(n.c.kind.in_(where.kinds))
    if where.start is not None:
        conditions.append(or_(~dated, n.c.date >= where.start))
    if where.end is not None:
        conditions.append(or_(~dated, n.c.date <= where.end))
    if where.as_of is not None:
        # Models, papers and techniques by their dates (a technique's is its proposal); a
        # technique of no known origin once a model released by then used it.
        unknown_origin_used = and_(
            n.c.kind == "technique", n.c.date.is_(None), n.c.id.in_(used_by_then(where.as_of))
        )
        conditions.append(
            or_(n.c.kind.in_(("lab", "slide")), n.c.date <= where.as_of, unknown_origin_used)
        )
    return conditions


@dataclass(frozen=True)
class GraphFilter:
    """A part of the graph: node filters, then edges of these relations touching these labs."""

    nodes: NodeFilter = field(default_factory=NodeFilter)
    relations: tuple[str, ...] = DEFAULT_RELATIONS
    labs: tuple[str, ...] = ()

    @property
    def narrowed(self) -> bool:
        """True when only the connected part is wanted (a filter beyond `kind` and `as_of`)."""
        n = self.nodes
        return bool(self.labs or self.relations != DEFAULT_RELATIONS or n.start or n.end)


@dataclass(frozen=True)
class EdgeParts:
    """The filtered edge select, unordered, and the union and node aliases it is built on."""

    stmt: Select[Any]
    edge: Subquery
    source: NamedFromClause
    target: NamedFromClause
    nodes: Subquery


def edge_parts(where: GraphFilter) -> EdgeParts:
    """Edges between nodes that pass the node filter (and touch the labs), both ends' slugs."""
    n = node_union()
    nodes = select(n).where(*node_where(n, where.nodes)).subquery("kept")
    e = edge_union(where.relations)
    a, b = nodes.alias("a"), nodes.alias("b")
    stmt = (
        select(
            e.c.source_kind, e.c.source_id, a.c.slug.label("source_slug"), e.c.relation,
            e.c.target_kind, e.c.target_id, b.c.slug.label("target_slug"),
        )
        .join(a, and_(a.c.kind == e.c.source_kind, a.c.id == e.c.source_id))
        .join(b, and_(b.c.kind == e.c.target_kind, b.c.id == e.c.target_id))
    )  # fmt: skip
    if where.labs:
        stmt = stmt.where(or_(a.c.lab.in_(where.labs), b.c.lab.in_(where.labs)))
    return EdgeParts(stmt, e, a, b, nodes)


def filtered_edges(where: GraphFilter) -> tuple[Select[Any], Subquery]:
    """Edges between nodes that pass the node filter, with both ends' slugs, and those nodes:
    the edges in answer order (relation, then the two ends' slugs)."""
    parts = edge_parts(where)
    order = (parts.edge.c.relation, parts.source.c.slug, parts.target.c.slug)
    return parts.stmt.order_by(*order), parts.nodes


def node_select(where: GraphFilter) -> Select[Any]:
    """The nodes of the answer, unordered: those that pass the node filter and, when the filter
    narrows the graph, only the ends of the kept edges and the labs named."""
    parts = edge_parts(where)
    stmt = select(parts.nodes)
    if not where.narrowed:
        return stmt
    kept = parts.nodes.c
    ends = parts.stmt.cte("ends")
    joined = union(
        select(ends.c.source_kind, ends.c.source_id), select(ends.c.target_kind, ends.c.target_id)
    )
    condition: ColumnElement[bool] = tuple_(kept.kind, kept.id).in_(joined)
    if where.labs:
        condition = or_(condition, and_(kept.kind == "lab", kept.slug.in_(where.labs)))
    return stmt.where(condition)


# --- reading a part of the graph -----------------------------------------------------------------

Link = tuple[str, str]  # (relation, target node id) of an edge out of a node


class GraphReader(Protocol):
    """A part of the graph as the export formats read it: counts, then nodes in `kind, slug`
    order, then edges in answer order; or each node with the edges out of it (JSON-LD); or the
    edges as positions in the node list (Mermaid)."""

    def counts(self) -> tuple[int, int]: ...

    def iter_nodes(self) -> Iterator[Node]: ...

    def iter_edges(self, *, sources: bool = True) -> Iterator[Edge]: ...

    def iter_links(self) -> Iterator[tuple[Node, list[Link]]]: ...

    def iter_numbered_edges(self) -> Iterator[tuple[int, str, int]]: ...


@dataclass
class Graph:
    """A part of the graph held in memory (`load_graph`, or built by hand): the plain reference
    implementation that tests/test_graph.py checks the streamed answers (`GraphStream`) against."""

    nodes: list[Node]
    edges: list[Edge]

    def counts(self) -> tuple[int, int]:
        return len(self.nodes), len(self.edges)

    def iter_nodes(self) -> Iterator[Node]:
        return iter(self.nodes)

    def iter_edges(self, *, sources: bool = True) -> Iterator[Edge]:
        return iter(self.edges)

    def iter_links(self) -> Iterator[tuple[Node, list[Link]]]:
        out: dict[str, dict[str, list[str]]] = {}
        for e in self.edges:
            out.setdefault(e["source"], {}).setdefault(e["relation"], []).append(e["target"])
        for n in self.nodes:
            by_relation = out.get(n["id"], {})
            yield n, [(r, target) for r, targets in by_relation.items() for target in targets]

    def iter_numbered_edges(self) -> Iterator[tuple[int, str, int]]:
        position = {n["id"]: i for i, n in enumerate(self.nodes)}
        for e in self.edges:
            yield position[e["source"]], e["relation"], position[e["target"]]


def load_graph(session: Session, where: GraphFilter) -> Graph:
    """The nodes and edges of this part of the graph, each edge with its sources: 3 queries.

    Holds the whole part in memory; `GraphStream` reads the same answer in batches."""
    edge_stmt, nodes = filtered_edges(where)
    edge_rows = list(session.execute(edge_stmt))
    node_rows = list(session.execute(select(nodes).order_by(nodes.c.kind, nodes.c.slug)))
    if where.narrowed:
        ends = {(r.source_kind, r.source_id) for r in edge_rows}
        ends |= {(r.target_kind, r.target_id) for r in edge_rows}
        node_rows = [
            r
            for r in node_rows
            if (r.kind, r.id) in ends or (r.kind == "lab" and r.slug in where.labs)
        ]
    sources = edge_sources(session, edge_rows)
    return Graph([node_json(r) for r in node_rows], [edge_json(r, sources) for r in edge_rows])


BATCH = 1000


class GraphStream:
    """A part of the graph read from the database as it is written out: each list is one
    query read in batches (a server-side cursor on PostgreSQL), edge sources one query per
    batch of edges, so memory stays flat however large the part is. Every read goes through
    `connection`: open it on one snapshot (`snapshot()`) so the lists agree with each other."""

    def __init__(self, connection: Connection, where: GraphFilter) -> None:
        self.connection = connection
        self.where = where

    def _rows(self, stmt: Select[Any]) -> Iterator[Any]:
        yield from self.connection.execute(stmt.execution_options(yield_per=BATCH))

    def _nodes(self) -> Subquery:
        return node_select(self.where).subquery("answer")

    def counts(self) -> tuple[int, int]:
        nodes, edges = self._nodes(), edge_parts(self.where).stmt.subquery("edges")
        stmt = select(
            select(func.count()).select_from(nodes).scalar_subquery(),
            select(func.count()).select_from(edges).scalar_subquery(),
        )
        counted = self.connection.execute(stmt).one()
        return int(counted[0]), int(counted[1])

    def _node_rows(self) -> Iterator[Any]:
        nodes = self._nodes()
        return self._rows(select(nodes).order_by(nodes.c.kind, nodes.c.slug))

    def iter_nodes(self) -> Iterator[Node]:
        for row in self._node_rows():
            yield node_json(row)

    def iter_edges(self, *, sources: bool = True) -> Iterator[Edge]:
        stmt, _ = filtered_edges(self.where)
        result = self.connection.execute(stmt.execution_options(yield_per=BATCH))
        for rows in result.partitions():
            found = edge_sources(self.connection, rows) if sources else {}
            for row in rows:
                yield edge_json(row, found)

    def iter_links(self) -> Iterator[tuple[Node, list[Link]]]:
        """Each node with its edges out, merged from two lists in the same `kind, slug` order
        (edges: by their source's kind and slug, then relation and target slug)."""
        parts = edge_parts(self.where)
        a, b = parts.source, parts.target
        stmt = parts.stmt.with_only_columns(
            a.c.kind.label("source_kind"), a.c.slug.label("source_slug"), parts.edge.c.relation,
            b.c.kind.label("target_kind"), b.c.slug.label("target_slug"),
        ).order_by(a.c.kind, a.c.slug, parts.edge.c.relation, b.c.slug)  # fmt: skip
        links = self._rows(stmt)
        pending = next(links, None)
        for row in self._node_rows():
            out: list[Link] = []
            while (
                pending is not None
                and pending.source_kind == row.kind
                and pending.source_slug == row.slug
            ):
                out.append((pending.relation, node_id(pending.target_kind, pending.target_slug)))
                pending = next(links, None)
            yield node_json(row), out

    def iter_numbered_edges(self) -> Iterator[tuple[int, str, int]]:
        """Each edge as (source position, relation, target position) in the node list.

        The positions are read first, into one 4-byte slot per entity id (an array per kind,
        indexed by id): about 0.6 MB at 100k models, not the graph. Numbering the nodes in SQL
        and joining them to the edges would keep nothing, but PostgreSQL misjudges that join
        and loops over the nodes for every edge."""
        nodes = self._nodes()
        positions: dict[str, array[int]] = {}
        ordered = select(nodes.c.kind, nodes.c.id).order_by(nodes.c.kind, nodes.c.slug)
        for i, (kind, key) in enumerate(self._rows(ordered)):
            slots = positions.setdefault(kind, array("i"))
            if key >= len(slots):
                slots.extend(repeat(-1, key + 1 - len(slots)))
            slots[key] = i
        stmt, _ = filtered_edges(self.where)
        for row in self._rows(stmt):
            source = positions[row.source_kind][row.source_id]
            yield source, row.relation, positions[row.target_kind][row.target_id]


def snapshot(engine: Engine) -> Connection:
    """A connection whose reads all see one state of the database, until it is closed."""
    connection = engine.connect()
    if connection.dialect.name == "sqlite":
        # pysqlite opens no transaction for reads: make one, so every list sees one state.
        connection.exec_driver_sql("BEGIN")
        return connection
    return connection.execution_options(isolation_level="REPEATABLE READ")
