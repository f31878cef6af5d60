"""Walks over the graph view: the neighbourhood of a node and a shortest path between two.

Both are one recursive CTE over the edges taken in both directions. The walk keeps
`(kind, id, depth)` rows under `UNION`, not paths, so it holds at most one row per node and
depth: bounded by `depth × nodes` however many paths there are, and capped at `ROW_CAP` rows.
The path is then read back from the target, one step nearer the start at a time.
"""

from typing import Any

from sqlalchemy import CTE, Integer, Select, String, and_, func, literal_column, or_, select
from sqlalchemy.orm import Session

from api.errors import ApiError, InvalidParam, NotFound
from api.queries import graph as g
from api.queries import graph_items as items
from models import tables as t

ROW_CAP = 20_000
TABLES = {"lab": t.lab, "paper": t.paper, "model": t.model, "technique": t.technique}


class NoPath(ApiError):
    status = 404
    title = "No path"
    type = "no-path"


def resolve(session: Session, kind: str, slug: str) -> int:
    """The id of the node `kind:slug` (404 with close slugs when there is none)."""
    if kind == "slide":
        deck, _, raw = slug.rpartition(":")
        number = int(raw) if raw.isdigit() and len(raw) <= 6 else -1
        stmt = (
            select(t.slide.c.id)
            .join(t.deck, t.deck.c.id == t.slide.c.deck_id)
            .where(t.deck.c.slug == deck, t.slide.c.number == number)
        )
        found = session.execute(stmt).scalar()
        if found is None:
            raise NotFound("slide", slug)
        return int(found)
    table = TABLES[kind]
    found = session.execute(select(table.c.id).where(table.c.slug == slug)).scalar()
    if found is None:
        candidates = list(session.execute(select(table.c.slug)).scalars())
        raise NotFound(kind, slug, candidates=candidates)
    return int(found)


def arcs(relations: tuple[str, ...]) -> Any:
    """Every edge in both directions: (a kind, a id, b kind, b id)."""
    e = g.edge_union(relations)
    forward = select(
        e.c.source_kind.label("a_kind"), e.c.source_id.label("a_id"),
        e.c.target_kind.label("b_kind"), e.c.target_id.label("b_id"),
    )  # fmt: skip
    backward = select(e.c.target_kind, e.c.target_id, e.c.source_kind, e.c.source_id)
    return forward.union_all(backward).subquery("arc")


def reach(kind: str, node: int, max_depth: int, relations: tuple[str, ...]) -> CTE:
    """(kind, id, depth): every node reachable from `kind:node` in at most `max_depth` steps."""
    arc = arcs(relations)
    anchor = select(
        literal_column(f"'{kind}'", String).label("kind"),
        literal_column(str(int(node)), Integer).label("id"),
        literal_column("0", Integer).label("depth"),
    )
    walk = anchor.cte("walk", recursive=True)
    step = (
        select(arc.c.b_kind, arc.c.b_id, walk.c.depth + 1)
        .join(walk, and_(arc.c.a_kind == walk.c.kind, arc.c.a_id == walk.c.id))
        .where(walk.c.depth < max_depth)
    )
    return walk.union(step)


def distances(session: Session, walk: CTE, param: str) -> dict[tuple[str, int], int]:
    """Each reached node's distance from the start (its smallest depth), capped in rows; a walk
    past the cap is a 422 naming the depth parameter `param`."""
    stmt: Select[Any] = (
        select(walk.c.kind, walk.c.id, func.min(walk.c.depth))
        .group_by(walk.c.kind, walk.c.id)
        .limit(ROW_CAP + 1)
    )
    rows = session.execute(stmt).all()
    if len(rows) > ROW_CAP:
        raise InvalidParam(param, f"the walk reaches more than {ROW_CAP} nodes; ask for less")
    return {(kind, int(node)): int(depth) for kind, node, depth in rows}


def _edges_among(
    session: Session, keys: set[tuple[str, int]], relations: tuple[str, ...]
) -> list[Any]:
    """The edges (with slugs) whose two ends are both among `keys`."""
    stmt, _ = g.filtered_edges(g.GraphFilter(relations=relations))
    by_kind: dict[str, set[int]] = {}
    for kind, node in keys:
        by_kind.setdefault(kind, set()).add(node)
    cols = stmt.selected_columns

    def among(kind_col: Any, id_col: Any) -> Any:
        return or_(*(and_(kind_col == k, id_col.in_(sorted(v))) for k, v in by_kind.items()))

    stmt = stmt.where(
        among(cols.source_kind, cols.source_id), among(cols.target_kind, cols.target_id)
    )
    return list(session.execute(stmt))


def _nodes(session: Session, keys: set[tuple[str, int]]) -> dict[tuple[str, int], items.Node]:
    n = g.node_union()
    by_kind: dict[str, set[int]] = {}
    for kind, node in keys:
        by_kind.setdefault(kind, set()).add(node)
    stmt = select(n).where(
        or_(*(and_(n.c.kind == k, n.c.id.in_(sorted(v))) for k, v in by_kind.items()))
    )
    return {(row.kind, row.id): items.node_json(row) for row in session.execute(stmt)}


def neighbors(
    session: Session, kind: str, slug: str, *, depth: int, relations: tuple[str, ...]
) -> dict[str, Any]:
    """The nodes within `depth` steps of `kind:slug` and the edges that lead to them."""
    start = resolve(session, kind, slug)
    dist = distances(session, reach(kind, start, depth, relations), "depth")
    rows = [
        r
        for r in _edges_among(session, set(dist), relations)
        if min(dist[(r.source_kind, r.source_id)], dist[(r.target_kind, r.target_id)]) < depth
    ]
    nodes = _nodes(session, set(dist))
    sources = items.edge_sources(session, rows)
    ordered = sorted(dist, key=lambda k: (dist[k], k[0], nodes[k]["slug"]))
    return {
        "center": nodes[(kind, start)],
        "depth": depth,
        "nodes": [nodes[k] | {"distance": dist[k]} for k in ordered],
        "edges": [items.edge_json(r, sources) for r in rows],
    }


def shortest_path(
    session: Session,
    start: tuple[str, str],
    end: tuple[str, str],
    *,
    max_depth: int,
    relations: tuple[str, ...] = g.DEFAULT_RELATIONS,
) -> dict[str, Any]:
    """A shortest undirected path from `start` to `end`, as ordered nodes and edges."""
    a = (start[0], resolve(session, *start))
    b = (end[0], resolve(session, *end))
    dist = distances(session, reach(a[0], a[1], max_depth, relations), "max_depth")
    if b not in dist:
        raise NoPath(
            f"No path from {items.node_id(*start)} to {items.node_id(*end)} "
            f"within {max_depth} steps.",
            max_depth=max_depth,
        )
    within = {k for k, d in dist.items() if d <= dist[b]}
    rows = _edges_among(session, within, relations)
    # Back from the target: at each step, the first (stable order) edge to a node one nearer.
    steps: list[Any] = []
    keys = [b]
    while keys[-1] != a:
        here = keys[-1]
        for r in rows:
            s, o = (r.source_kind, r.source_id), (r.target_kind, r.target_id)
            other = o if s == here else s if o == here else None
            if other is not None and dist[other] == dist[here] - 1:
                steps.append(r)
                keys.append(other)
                break
    steps.reverse()
    keys.reverse()
    nodes = _nodes(session, set(keys))
    sources = items.edge_sources(session, steps)
    return {
        "from": nodes[a],
        "to": nodes[b],
        "length": len(steps),
        "nodes": [nodes[k] for k in keys],
        "edges": [items.edge_json(r, sources) for r in steps],
    }
