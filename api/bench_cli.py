"""`paperkg bench generate`: a synthetic graph for benchmarks (see bench/README.md).

Imports are made inside the command, so `paperkg serve` does not pay for the bench tooling.
"""

from typing import Annotated

import typer

app = typer.Typer(help="Benchmark tools.", no_args_is_help=True)


@app.callback()
def bench() -> None:
    """Benchmark tools: a synthetic graph of any size (see bench/README.md)."""


@app.command()
def generate(
    database_url: Annotated[
        str, typer.Option("--database-url", envvar="PAPERKG_DATABASE_URL", help="Target database.")
    ],
    models: Annotated[
        str, typer.Option(help="`deck` (the seed only), `10k`, `100k` or a number of models.")
    ] = "10k",
    links_per_model: Annotated[int, typer.Option(min=1, help="Technique links per model.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same graph.")] = 0,
) -> None:
    """Migrate an empty database, seed the deck, then add a synthetic graph of its shape."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from api import generate as generator
    from api.db import make_engine, safe_url

    try:
        count = generator.scale(models)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--models") from error
    plan = generator.Plan(count, links_per_model)
    engine = make_engine(database_url)
    columns = (TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    try:
        with Progress(*columns, console=Console(stderr=True)) as bar:
            tasks = {name: bar.add_task(name, total=n) for name, n in plan.totals().items()}
            report = generator.generate(
                engine,
                models=count,
                links_per_model=links_per_model,
                seed=seed,
                progress=lambda table, n: bar.advance(tasks[table], n),
            )
    except ValueError as error:
        typer.secho(f"{safe_url(database_url)}: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from error
    finally:
        engine.dispose()
    table = Table("table", "rows", "seconds", "rows/s", title=safe_url(database_url))
    table.add_row("deck (migrate + seed)", "", f"{report.seconds['deck']:.2f}", "")
    for name, rows in report.rows.items():
        seconds = report.seconds[name]
        table.add_row(name, f"{rows:,}", f"{seconds:.2f}", f"{rows / max(seconds, 1e-9):,.0f}")
    table.add_row("total", f"{sum(report.rows.values()):,}", f"{report.total_seconds:.2f}", "")
    Console().print(table)
