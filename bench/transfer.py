"""How fast `paperkg import` restores a large graph, and how much memory import and export take.

    python bench/transfer.py                      # 100k models, SQLite and PostgreSQL
    python bench/transfer.py --models 10k --skip-postgres

Makes (or reuses, from `--cache`) a synthetic graph with `paperkg bench generate`, exports it
with `paperkg export` (peak RSS measured), then times `paperkg import` of that document into a
fresh, migrated, empty database: a SQLite file, and a PostgreSQL database created on the server
of `--postgres-url` for the run and dropped afterwards. Each command runs as a child process;
its peak RSS is the kernel's count for it (`wait4`). Linux counts a child's peak from its
parent's size at the fork, so this script stays small: whatever is big runs in a child.

Entities are the document's records: decks + slides + labs + papers + models + techniques +
links + sources + mentions (slide items are not counted).
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson

PAPERKG = str(Path(sys.executable).with_name("paperkg"))
COUNTED = ("decks", "slides", "labs", "papers", "models", "techniques", "links", "sources",
           "mentions")  # fmt: skip


@dataclass
class Run:
    """One child process: its wall time, its CPU time (user + system) and peak resident memory.

    The CPU time is steadier than the wall time on a shared machine; on PostgreSQL it leaves
    out the server's work, so compare wall times there."""

    seconds: float
    cpu_seconds: float
    peak_rss_mib: float


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run(*args: str) -> Run:
    """Run `paperkg ARGS`, fail loudly on a non-zero exit, and measure it."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [PAPERKG, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    stderr = child.stderr.read() if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"paperkg {' '.join(args)} failed:\n{stderr}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, cpu, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def graph(cache: Path, models: str) -> Path:
    """The cached SQLite graph of `models` models, generated once."""
    database = cache / f"graph-{models}.db"
    if not database.exists():
        partial = database.with_suffix(".partial.db")
        partial.unlink(missing_ok=True)
        sys.stderr.write(f"generating {models} models into {database} ...\n")
        run("bench", "generate", "--models", models, "--database-url", f"sqlite:///{partial}")
        partial.rename(database)
    return database


COUNT = """
import json, sys
import orjson
data = orjson.loads(open(sys.argv[1], "rb").read())
counts = {name: len(data[name]) for name in sys.argv[2:] if name != "slides"}
counts["slides"] = sum(len(deck["slides"]) for deck in data["decks"])
print(json.dumps(counts))
"""


def count(document: Path) -> dict[str, int]:
    """Records per counted list of an export document.

    Parsed in a child process: a child inherits its parent's peak RSS (Linux keeps it across
    fork and exec), so this process must stay small for the measured ones to be their own."""
    out = subprocess.run(
        [sys.executable, "-c", COUNT, str(document), *COUNTED],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    counts: dict[str, int] = orjson.loads(out)
    return {name: counts[name] for name in COUNTED}


def import_into(url: str, document: Path) -> Run:
    """Migrate the empty database at `url` (not timed), then time the import."""
    run("migrate", "--database-url", url)
    return run("import", str(document), "--database-url", url)


ADMIN = """
import sys
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
server, action, name = sys.argv[1:]
admin = create_engine(server, isolation_level="AUTOCOMMIT")
with admin.connect() as connection:
    if action == "create":
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    else:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
print(make_url(server).set(database=name).render_as_string(hide_password=False))
"""


def postgres(server: str, action: str, name: str) -> str:
    """CREATE or DROP the database `name` on `server` (from a child process, as `count`); its
    URL."""
    return subprocess.run(
        [sys.executable, "-c", ADMIN, server, action, name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="100k", help="graph size, as `paperkg bench generate`")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/paperkg-bench-cache"))
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--runs", type=int, default=1, help="imports per database kind")
    options = parser.parse_args()
    options.cache.mkdir(parents=True, exist_ok=True)
    work = options.cache / f"run-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    try:
        database = graph(options.cache, options.models)
        document = work / "graph.json"
        exported = run("export", str(document), "--database-url", f"sqlite:///{database}")
        counts = count(document)
        entities = sum(counts.values())
        say(", ".join(f"{name} {n:,}" for name, n in counts.items()) + f" = {entities:,}")
        say(f"document {document.stat().st_size / 2**20:,.0f} MiB")
        say()
        rows = [("export (SQLite)", exported, entities)]
        say(f"export done in {exported.seconds:.1f} s")
        for n in range(options.runs):
            target = work / f"import-{n}.db"
            rows.append(("import SQLite", import_into(f"sqlite:///{target}", document), entities))
            say(f"SQLite import done in {rows[-1][1].seconds:.1f} s")
            for path in work.glob(f"{target.name}*"):
                path.unlink()
            if not options.skip_postgres:
                name = f"paperkg_bench_{uuid.uuid4().hex[:12]}"
                url = postgres(options.postgres_url, "create", name)
                try:
                    rows.append(("import PostgreSQL", import_into(url, document), entities))
                    say(f"PostgreSQL import done in {rows[-1][1].seconds:.1f} s")
                finally:
                    postgres(options.postgres_url, "drop", name)
        say("| step | wall s | entities/s | CPU s | entities/CPU s | peak RSS MiB |")
        say("| --- | ---: | ---: | ---: | ---: | ---: |")
        for step, m, n in rows:
            say(
                f"| {step} | {m.seconds:.1f} | {n / m.seconds:,.0f} | {m.cpu_seconds:.1f} "
                f"| {n / m.cpu_seconds:,.0f} | {m.peak_rss_mib:,.0f} |"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
