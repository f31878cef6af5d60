"""The graph: exports in seven formats, neighbourhoods, shortest paths, the adoption matrix and
the timeline picture."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response, StreamingResponse

from api.deps import SessionDep
from api.errors import InvalidParam
from api.params import choices, csv_values, date_bound
from api.queries import graph as graph_queries
from api.queries import graph_formats as formats
from api.queries import graph_walk as walk
from api.queries import matrix as matrix_queries
from api.queries import timeline as timeline_queries
from api.queries import timeline_svg
from api.responses import JSON
from api.routes.docs import errors
from models.base import TechniqueCategory
from models.graph import AdoptionMatrix, GraphPath, GraphPublic, Neighborhood

router = APIRouter(tags=["graph"])

CATEGORIES = tuple(c.value for c in TechniqueCategory)
KindQuery = Annotated[
    str | None,
    Query(description="Node kinds, comma-separated: lab, paper, model, technique, slide."),
]
RelationQuery = Annotated[
    str | None,
    Query(
        description="Relations, comma-separated: " + ", ".join(graph_queries.RELATIONS) + ". "
        "`does_not_use` (a sourced negative fact) is an edge only when asked for."
    ),
]
FromQuery = Annotated[
    str | None, Query(alias="from", description="Models and papers dated on or after this.")
]
ToQuery = Annotated[str | None, Query(description="Models and papers dated on or before this.")]
AsOfQuery = Annotated[
    str | None,
    Query(
        description="The graph as it stood on this date: models and papers released by then, "
        "techniques proposed by then, adoptions by models released by then."
    ),
]

GRAPH_DESCRIPTION = """
Every typed relation as an edge between `kind:slug` nodes (`model:llama`, `lab:meta`, a slide is
`slide:<deck>:<number>`): developed_by, described_in, derived_from (model → lab, paper, model),
uses and introduced (model → technique; *introduced* when the model's own paper first proposed
it), proposed_in (technique → paper), refines (technique → technique), published_by (paper →
lab) and mentions (slide → entity). Each edge carries its sources.

Filters: `kind` keeps nodes of those kinds; `from` / `to` and `as_of` date the models and papers;
`relation` keeps those edges; `lab` keeps the edges that touch the lab, its models or its papers.
With `lab`, `relation`, `from` or `to`, the answer is the kept edges and the nodes they join
(plus the labs named), so it holds no stray nodes; `kind` and `as_of` alone keep every node
that passes, linked or not.

Formats (`format=` or `Accept`): `json` (default), `cytoscape` (Cytoscape.js elements),
`graphml` (`application/graphml+xml`; Gephi, yEd, networkx), `jsonld` (`application/ld+json`;
schema.org types, `@id`s are the URNs `urn:paperkg:<kind>:<slug>`), `csv` (`application/zip`
holding `nodes.csv` and `edges.csv`, or one of them as `text/csv` with `part=`), `dot`
(`text/vnd.graphviz`) and `mermaid` (a `graph LR` block as `text/plain`). Answers stream, read
from one snapshot of the database as they are sent (the CSV zip is assembled first).
"""


def node_filter(
    kind: str | None, from_: str | None, to: str | None, as_of: str | None
) -> graph_queries.NodeFilter:
    start, end = date_bound("from", from_), date_bound("to", to, end=True)
    if start is not None and end is not None and end < start:
        raise InvalidParam("to", f"{to!r} is before from={from_!r}")
    kinds = choices("kind", kind, graph_queries.NODE_KINDS)
    return graph_queries.NodeFilter(
        kinds=tuple(kinds) if kinds else graph_queries.NODE_KINDS,
        start=start,
        end=end,
        as_of=date_bound("as_of", as_of, end=True),
    )


def relations_of(raw: str | None) -> tuple[str, ...]:
    chosen = choices("relation", raw, graph_queries.RELATIONS)
    return tuple(chosen) if chosen else graph_queries.DEFAULT_RELATIONS


def graph_filter(
    *,
    kind: str | None = None,
    from_: str | None = None,
    to: str | None = None,
    as_of: str | None = None,
    relation: str | None = None,
    lab: str | None = None,
) -> graph_queries.GraphFilter:
    """The part of the graph the parameters select (`/graph` and `paperkg graph` alike)."""
    return graph_queries.GraphFilter(
        nodes=node_filter(kind, from_, to, as_of),
        relations=relations_of(relation),
        labs=tuple(csv_values(lab) or ()),
    )


@router.get(
    "/graph",
    response_model=GraphPublic,
    summary="The graph, or a part of it, as JSON, Cytoscape, GraphML, JSON-LD, CSV, DOT or Mermaid",
    description=GRAPH_DESCRIPTION,
    responses={
        **errors(),
        200: {
            "content": {m.split(";")[0]: {} for m in [*formats.MEDIA_TYPES.values(), "text/csv"]}
        },
    },
)
def read_graph(
    request: Request,
    kind: KindQuery = None,
    lab: Annotated[str | None, Query(description="Lab slugs, comma-separated.")] = None,
    from_: FromQuery = None,
    to: ToQuery = None,
    relation: RelationQuery = None,
    as_of: AsOfQuery = None,
    format: Annotated[
        str | None, Query(description="One of: " + ", ".join(formats.FORMATS) + ".")
    ] = None,
    part: Annotated[
        str | None, Query(description="With `format=csv`: `nodes` or `edges` as one CSV.")
    ] = None,
) -> Response:
    """Nodes and edges of the whole graph or of the part the filters select, in any format."""
    chosen = choices("format", format, formats.FORMATS)
    fmt = chosen[0] if chosen else formats.negotiate(request.headers.get("accept", ""))
    parts = choices("part", part, ("nodes", "edges"))
    if parts and fmt != "csv":
        raise InvalidParam("part", "only with format=csv")
    where = graph_filter(kind=kind, from_=from_, to=to, as_of=as_of, relation=relation, lab=lab)
    one = parts[0] if parts else None
    # Read from one snapshot in batches as the answer is sent: memory stays flat at any size.
    chunks = formats.open_graph(request.app.state.engine, where, fmt, one)
    headers = {"Vary": "Accept"}
    if fmt == "csv":
        name = f"paperkg-{one}.csv" if one else "paperkg-graph.zip"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return StreamingResponse(chunks, media_type=formats.media_type(fmt, one), headers=headers)


@router.get(
    "/graph/neighbors/{kind}/{slug}",
    response_model=Neighborhood,
    summary="The nodes and edges around one entity, up to three steps away",
    responses=errors(404),
)
def read_neighbors(
    session: SessionDep,
    kind: Annotated[str, Path(description="lab, paper, model, technique or slide.")],
    slug: Annotated[str, Path(description="The entity's slug (a slide: `deck:number`).")],
    depth: Annotated[int, Query(ge=1, le=3, description="Steps from the entity.")] = 1,
    relation: RelationQuery = None,
) -> JSON:
    """Every node within `depth` steps of the entity, whichever way the edges point, each with
    its distance, and the edges that lead to them with their sources. `relation` walks only
    those edges."""
    choices("kind", kind, graph_queries.NODE_KINDS)
    answer = walk.neighbors(session, kind, slug, depth=depth, relations=relations_of(relation))
    return JSON(answer)


def node_param(name: str, raw: str) -> tuple[str, str]:
    kind, sep, slug = raw.strip().partition(":")
    if not sep or not slug or kind not in graph_queries.NODE_KINDS:
        kinds = ", ".join(graph_queries.NODE_KINDS)
        raise InvalidParam(name, f"{raw[:80]!r} is not a node; write kind:slug ({kinds})")
    return kind, slug


@router.get(
    "/graph/path",
    response_model=GraphPath,
    summary="A shortest path between two entities",
    responses=errors(404),
)
def read_path(
    session: SessionDep,
    from_: Annotated[
        str, Query(alias="from", description="Start node, `kind:slug`.", examples=["model:llama"])
    ],
    to: Annotated[
        str,
        Query(description="End node.", examples=["technique:multi-head-latent-attention"]),
    ],
    max_depth: Annotated[int, Query(ge=1, le=8, description="Longest path to look for.")] = 6,
    relation: RelationQuery = None,
) -> JSON:
    """A shortest chain of edges (followed either way) from one node to another, as ordered
    nodes and edges; a 404 problem when none is `max_depth` steps long or shorter."""
    start, end = node_param("from", from_), node_param("to", to)
    answer = walk.shortest_path(
        session, start, end, max_depth=max_depth, relations=relations_of(relation)
    )
    return JSON(answer)


@router.get(
    "/matrix",
    response_model=AdoptionMatrix,
    summary="The adoption matrix: which model introduced or uses which technique",
    responses=errors(),
)
def read_matrix(
    request: Request,
    session: SessionDep,
    rows: Annotated[str, Query(description="`models` or `techniques`.")] = "models",
    cols: Annotated[str, Query(description="`techniques` or `models`.")] = "techniques",
    lab: Annotated[str | None, Query(description="Models of these labs.")] = None,
    category: Annotated[
        str | None, Query(description=f"Techniques of these categories: {', '.join(CATEGORIES)}.")
    ] = None,
    from_: Annotated[str | None, Query(alias="from", description="Models released from.")] = None,
    to: Annotated[str | None, Query(description="Models released until.")] = None,
    as_of: AsOfQuery = None,
    dense: Annotated[bool, Query(description="Leave out rows and columns with no cell.")] = False,
    format: Annotated[str | None, Query(description="`json` or `csv` (or `Accept`).")] = None,
) -> Response:
    """One row per model and one column per technique (or the transpose); each cell is
    `introduced`, `uses` or null, and `evidence` gives the sources of every filled cell. The
    comparison table, built from the graph."""
    (row_axis,) = choices("rows", rows, matrix_queries.AXES) or ["models"]
    (col_axis,) = choices("cols", cols, matrix_queries.AXES) or ["techniques"]
    if row_axis == col_axis:
        raise InvalidParam("cols", "must differ from rows (models × techniques)")
    start, end = date_bound("from", from_), date_bound("to", to, end=True)
    where = matrix_queries.MatrixFilter(
        labs=csv_values(lab),
        categories=choices("category", category, CATEGORIES),
        start=start,
        end=end,
        as_of=date_bound("as_of", as_of, end=True),
        dense=dense,
    )
    chosen = choices("format", format, ("json", "csv"))
    wants_csv = "text/csv" in request.headers.get("accept", "")
    matrix = matrix_queries.adoption_matrix(session, where, rows=row_axis)
    if (chosen and chosen[0] == "csv") or (not chosen and wants_csv):
        return StreamingResponse(
            matrix_queries.matrix_csv(matrix, rows=row_axis),
            media_type="text/csv; charset=utf-8",
            headers={"Vary": "Accept"},
        )
    return JSON(matrix, headers={"Vary": "Accept"})


@router.get(
    "/timeline.svg",
    summary="The timeline as a picture: one lane per lab, a mark for every release",
    tags=["timeline"],
    responses={**errors(), 200: {"content": {"image/svg+xml": {}}}},
    response_class=Response,
)
def read_timeline_svg(
    session: SessionDep,
    from_: Annotated[str | None, Query(alias="from", description="First date.")] = None,
    to: Annotated[str | None, Query(description="Last date, inclusive.")] = None,
    lab: Annotated[str | None, Query(description="Lab slugs, comma-separated.")] = None,
    technique: Annotated[
        str | None, Query(description="Only models using these techniques (slugs).")
    ] = None,
    as_of: AsOfQuery = None,
) -> Response:
    """A self-contained SVG of the timeline (no script, font or network needed): time across,
    one lane per lab, a labelled mark for every model release in range, a diamond and a line
    of text where the release's paper proposed a technique. Same filters as `/timeline`."""
    start, end = date_bound("from", from_), date_bound("to", to, end=True)
    cutoff = date_bound("as_of", as_of, end=True)
    if cutoff is not None:
        end = min(end, cutoff) if end is not None else cutoff
    where = timeline_queries.EventFilter(
        start=start, end=end, labs=csv_values(lab), kinds=["model"],
        techniques=csv_values(technique),
    )  # fmt: skip
    releases, lab_names = timeline_svg.releases(session, where=where)
    svg = timeline_svg.render_svg(releases, lab_names, title_of(releases, cutoff))
    return Response(svg, media_type="image/svg+xml")


def title_of(releases: list[timeline_svg.Release], as_of: date | None) -> str:
    if not releases:
        return "Open LLM releases: none match"
    years = sorted({r.day.year for r in releases})
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
    suffix = f" (as of {as_of.isoformat()})" if as_of else ""
    return f"Open LLM releases by lab, {span}{suffix}"
