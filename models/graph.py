"""Response shapes of the graph: nodes, edges, neighbourhoods, paths and the adoption matrix."""

from typing import Literal

from pydantic import BaseModel, Field

from models.schemas import EntityLink, SourcePublic

NodeKind = Literal["lab", "paper", "model", "technique", "slide"]
Cell = Literal["introduced", "uses"]


class GraphNode(BaseModel):
    """An entity (or a slide) as a node of the graph."""

    id: str = Field(examples=["model:llama"], description="`kind:slug`, unique in the graph.")
    kind: NodeKind
    slug: str = Field(description="A slide's slug is `deck:number`.")
    name: str | None
    url: str = Field(examples=["/models/llama"])
    date: str | None = Field(description="Release, publication or proposal date (reduced ISO).")
    lab: str | None = Field(description="Slug of the lab of a model or paper.")
    category: str | None = Field(description="A technique's category.")


class GraphEdge(BaseModel):
    """A typed relation from one node to another, with the sources that state it."""

    source: str = Field(examples=["model:deepseek-v3"])
    target: str = Field(examples=["lab:deepseek"])
    relation: str = Field(examples=["developed_by"])
    sources: list[SourcePublic]


class GraphCounts(BaseModel):
    nodes: int
    edges: int


class GraphPublic(BaseModel):
    """A part of the graph (or all of it) as nodes and edges."""

    counts: GraphCounts
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class NeighborNode(GraphNode):
    distance: int = Field(description="Steps from the centre (0 for the centre itself).")


class Neighborhood(BaseModel):
    """The nodes within `depth` steps of one node, and the edges that reach them."""

    center: GraphNode
    depth: int
    nodes: list[NeighborNode]
    edges: list[GraphEdge]


class GraphPath(BaseModel):
    """A shortest path, its nodes and edges in order from `from` to `to`."""

    from_: GraphNode = Field(alias="from")
    to: GraphNode
    length: int = Field(description="Number of edges.")
    nodes: list[GraphNode]
    edges: list[GraphEdge] = Field(description="Edge i joins nodes i and i+1 (either way).")


class MatrixModel(EntityLink):
    kind: Literal["model", "technique"]
    release_date: str | None = None
    lab: EntityLink | None = None
    category: str | None = None


class MatrixEvidence(BaseModel):
    """Why one cell is filled: the link's slide quotes and references."""

    row: str
    column: str
    value: Cell
    sources: list[SourcePublic]


class AdoptionMatrix(BaseModel):
    """Rows × columns; `cells[i][j]` says how row i relates to column j (null: no known use)."""

    rows: list[MatrixModel]
    columns: list[MatrixModel]
    cells: list[list[Cell | None]]
    evidence: list[MatrixEvidence]
