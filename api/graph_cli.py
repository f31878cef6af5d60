"""`paperkg graph`: the graph export of `GET /graph`, written to standard output."""

import sys
from typing import Annotated

import typer

from api.errors import ApiError, InvalidParam
from api.params import choices
from api.queries import graph_formats as formats
from api.routes.graph import graph_filter

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", envvar="PAPERKG_DATABASE_URL", help="SQLAlchemy database URL."),
]


def graph(
    database_url: DatabaseOption = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help="One of: " + ", ".join(formats.FORMATS) + ".")
    ] = "json",
    part: Annotated[
        str | None, typer.Option(help="With --format csv: `nodes` or `edges` (else a zip).")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="Node kinds, comma-separated.")] = None,
    lab: Annotated[str | None, typer.Option(help="Lab slugs, comma-separated.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Dated on or after.")] = None,
    to: Annotated[str | None, typer.Option(help="Dated on or before.")] = None,
    relation: Annotated[str | None, typer.Option(help="Relations, comma-separated.")] = None,
    as_of: Annotated[str | None, typer.Option(help="The graph as it stood on this date.")] = None,
) -> None:
    """Export the graph, or the part the filters select: `paperkg graph -f graphml > g.xml`."""
    # The command helpers live in api.cli, which registers this command: import them late.
    from api.cli import _connected, _fail

    try:
        (fmt,) = choices("format", format, formats.FORMATS) or ["json"]
        parts = choices("part", part, ("nodes", "edges"))
        if parts and fmt != "csv":
            raise InvalidParam("part", "only with --format csv")
        where = graph_filter(kind=kind, from_=from_, to=to, as_of=as_of, relation=relation, lab=lab)
    except ApiError as error:
        raise _fail(error.detail) from error
    with _connected(database_url) as engine:
        out = sys.stdout.buffer
        for chunk in formats.open_graph(engine, where, fmt, parts[0] if parts else None):
            out.write(chunk)
        out.flush()
