"""Load paperkg, the limit app and Datasette with the same questions; write bench/RESULTS.md.

    python bench/run.py                                   # SQLite, deck-size graph
    python bench/run.py --scale-check 100k                # + latency at 100k models / 1M links
    python bench/run.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Every server runs on 127.0.0.1 on a free port, with one uvicorn worker, and is stopped by its
own process id at the end. Each server must first answer the same content as paperkg. Then each
endpoint is loaded at a fixed concurrency with `wrk` (or, where it is absent, a bounded asyncio
+ httpx load generator), the servers taking turns (A/B/C/A/B/C over several rounds), so each
ratio compares runs made under the same machine conditions; a ratio is the median of the
per-round ratios. On PostgreSQL, `--database-url` names a server on which a database is created
for the run and dropped afterwards (Datasette reads SQLite only, so it is left out).
"""

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.db import make_engine
from api.generate import generate, scale

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, '
    .. '"p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Endpoint:
    name: str
    paperkg: str  # the path asked of paperkg and of the limit app
    datasette: str  # the equivalent Datasette path (`{db}` is the database name)
    fingerprint: Callable[[Any], Any]  # what Datasette's answer must share with paperkg's


def _slugs(items: list[dict[str, Any]], key: str = "slug") -> list[str]:
    return [item[key] for item in items]


ENDPOINTS = [
    Endpoint(
        "item",
        "/models/deepseek-v2",
        "/{db}/model_item.json?slug=deepseek-v2&_shape=array",
        lambda body: (
            (body["slug"], body["lab"]["slug"], sorted(_slugs(body["techniques"])))
            if isinstance(body, dict)
            else (body[0]["slug"], body[0]["lab_slug"], sorted(json.loads(body[0]["techniques"])))
        ),
    ),
    Endpoint(
        "page",
        "/models?limit=50",
        "/{db}/model.json?_sort=release_date&_size=50&_labels=on&_nocount=1&_nofacet=1&_shape=objects",
        lambda body: sorted(_slugs(body["items"] if "items" in body else body["rows"])),
    ),
    Endpoint(
        "timeline",
        "/timeline?limit=50",
        "/{db}/timeline.json?_shape=array",
        lambda body: (
            [e["entity"]["slug"] for e in body["items"]] if isinstance(body, dict) else _slugs(body)
        ),
    ),
    Endpoint(
        "introduced-by",
        "/techniques/multi-head-latent-attention/introduced-by",
        "/{db}/introduced_by.json?slug=multi-head-latent-attention&_shape=array",
        lambda body: (
            sorted(_slugs(body["adopters"] + body["not_used_by"]))
            if isinstance(body, dict)
            else sorted(_slugs(body, "model_slug"))
        ),
    ),
]
# The questions whose latency must not grow with the graph (p50 at scale / p50 at deck size).
SCALE_QUESTIONS = [
    ("timeline", "/timeline?limit=50"),
    ("models by lab and technique", "/models?lab=meta&technique=grouped-query-attention"),
    ("introduced-by", "/techniques/multi-head-latent-attention/introduced-by"),
    ("lineage", "/models/llama-2/lineage"),
    ("search", "/search?q=latent"),
]


# --- Datasette's equivalents -------------------------------------------------------------------

ROLE = """CASE WHEN mt.relation = 'uses' AND t.proposed_in_id IS NOT NULL
               AND t.proposed_in_id = m.paper_id THEN 'introduced' ELSE mt.relation END"""
DATASETTE_QUERIES = {
    "model_item": f"""
        SELECT m.*, l.slug AS lab_slug, l.name AS lab_name, p.slug AS paper_slug,
               p.title AS paper_title, p.arxiv_id AS paper_arxiv_id,
               (SELECT json_group_array(t.slug) FROM model_technique mt
                JOIN technique t ON t.id = mt.technique_id WHERE mt.model_id = m.id) AS techniques,
               (SELECT json_group_array(json_object('slug', t.slug, 'name', t.name, 'role', {ROLE}))
                FROM model_technique mt JOIN technique t ON t.id = mt.technique_id
                WHERE mt.model_id = m.id) AS technique_links
        FROM model m LEFT JOIN lab l ON l.id = m.lab_id LEFT JOIN paper p ON p.id = m.paper_id
        WHERE m.slug = :slug""",
    "timeline": """
        SELECT * FROM (
          SELECT m.release_date AS date, m.date_precision, 'model' AS kind, m.slug, m.name,
                 m.summary, l.slug AS lab_slug, l.name AS lab_name
          FROM model m LEFT JOIN lab l ON l.id = m.lab_id WHERE m.release_date IS NOT NULL
          UNION ALL
          SELECT p.published_date, p.date_precision, 'paper', p.slug, p.title,
                 coalesce(p.key_idea, 'First author: ' || p.authors), l.slug, l.name
          FROM paper p LEFT JOIN lab l ON l.id = p.lab_id WHERE p.published_date IS NOT NULL
          UNION ALL
          SELECT p.published_date, p.date_precision, 'technique', t.slug, t.name, t.description,
                 l.slug, l.name
          FROM technique t JOIN paper p ON p.id = t.proposed_in_id
          LEFT JOIN lab l ON l.id = p.lab_id WHERE p.published_date IS NOT NULL)
        ORDER BY date, kind, slug LIMIT 50""",
    "introduced_by": f"""
        SELECT t.slug, t.name, t.category, p.slug AS paper_slug, p.title AS paper_title,
               p.published_date AS paper_date, m.slug AS model_slug, m.name AS model_name,
               m.release_date, l.slug AS lab_slug, {ROLE} AS role
        FROM technique t LEFT JOIN paper p ON p.id = t.proposed_in_id
        JOIN model_technique mt ON mt.technique_id = t.id JOIN model m ON m.id = mt.model_id
        LEFT JOIN lab l ON l.id = m.lab_id
        WHERE t.slug = :slug ORDER BY m.release_date, m.slug""",
}


# --- servers -----------------------------------------------------------------------------------


def say(line: str) -> None:
    sys.stderr.write(line + "\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    ready_seconds: float = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log_dir: Path, ready_path: str) -> None:
        command = [part.replace("{port}", str(self.port)) for part in self.command]
        log = (log_dir / f"{self.name}.log").open("wb")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            command, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        deadline = started + 120
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {log.name}")
            try:
                if httpx.get(self.base + ready_path, timeout=1).status_code == 200:
                    self.ready_seconds = time.perf_counter() - started
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer {ready_path} within 120 s")

    def peak_rss_mb(self) -> float:
        """The process's high-water mark of resident memory (VmHWM)."""
        if self.process is None:
            return 0.0
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def running(servers: list[Server], log_dir: Path, ready: dict[str, str]) -> Iterator[None]:
    try:
        for server in servers:
            server.start(log_dir, ready.get(server.name, "/"))
        yield
    finally:
        for server in servers:
            server.stop()


def paperkg(name: str, url: str, cache: str) -> Server:
    env = {"PAPERKG_DATABASE_URL": url, "PAPERKG_CACHE": cache, "PAPERKG_LOG_LEVEL": "warning"}
    return Server(name, [str(BIN / "paperkg"), "serve", "--port", "{port}"], env)


def limit(url: str) -> Server:
    command = [str(BIN / "uvicorn"), "bench.limit_app:app", "--port", "{port}"]
    return Server("limit", [*command, "--log-level", "warning"], {"PAPERKG_DATABASE_URL": url})


def datasette(path: Path, log_dir: Path) -> Server:
    config = {"databases": {path.stem: {"queries": DATASETTE_QUERIES}}}
    config_path = log_dir / "datasette.json"
    config_path.write_text(json.dumps(config))
    command = [str(BIN / "datasette"), "serve", str(path), "--port", "{port}", "-m"]
    return Server("datasette", [*command, str(config_path)])


# --- load ----------------------------------------------------------------------------------------


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def load(url: str, connections: int, seconds: float, threads: int = 1) -> Result:
    if shutil.which("wrk"):
        return wrk(url, connections, seconds, threads)
    return asyncio.run(httpx_load(url, connections, seconds))


def wrk(url: str, connections: int, seconds: float, threads: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_REPORT)
    try:
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            script.name,
        ]
        out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    report = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    return Result(
        report["requests"] / (report["duration_us"] / 1e6),
        report["p50_us"] / 1000,
        report["p99_us"] / 1000,
        report["errors"] + report["non_2xx"],
    )


async def httpx_load(url: str, connections: int, seconds: float) -> Result:
    """At most `connections` requests in flight, for `seconds`: a bounded closed loop."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - began)
                errors += response.status_code >= 400

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return Result(
        len(latencies) / elapsed,
        latencies[len(latencies) // 2] * 1000,
        latencies[int(len(latencies) * 0.99)] * 1000,
        errors,
    )


# --- checks --------------------------------------------------------------------------------------


def check_content(servers: dict[str, Server], datasette_db: str | None) -> list[str]:
    """Each server answers what paperkg answers (Datasette: the same entities)."""
    notes = []
    for endpoint in ENDPOINTS:
        reference = httpx.get(servers["paperkg"].base + endpoint.paperkg).json()
        for name, server in servers.items():
            if name == "datasette":
                path = endpoint.datasette.replace("{db}", datasette_db or "")
                body = httpx.get(server.base + path).json()
                same = endpoint.fingerprint(body) == endpoint.fingerprint(reference)
            else:
                same = httpx.get(server.base + endpoint.paperkg).json() == reference
            if not same:
                raise SystemExit(f"{name} does not answer {endpoint.paperkg} like paperkg")
        notes.append(f"{endpoint.name}: same content from {', '.join(servers)}")
    return notes


# --- runs ----------------------------------------------------------------------------------------


def measure(
    servers: dict[str, Server],
    paths: dict[str, dict[str, str]],
    *,
    rounds: int,
    seconds: float,
    connections: int,
) -> dict[tuple[str, str], list[Result]]:
    """(endpoint, server) -> one result per round; servers take turns within each round."""
    results: dict[tuple[str, str], list[Result]] = {}
    for by_server in paths.values():  # warm-up: one short run each
        for name, path in by_server.items():
            load(servers[name].base + path, connections, 1)
    for round_ in range(rounds):
        for endpoint, by_server in paths.items():
            order = list(by_server) if round_ % 2 == 0 else list(reversed(by_server))
            for name in order:
                result = load(servers[name].base + by_server[name], connections, seconds)
                results.setdefault((endpoint, name), []).append(result)
                say(
                    f"round {round_ + 1} {endpoint:<14} {name:<18} {result.rps:>9.0f} req/s"
                    f"  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:7.2f} ms"
                )
    return results


def median_ratio(a: list[Result], b: list[Result]) -> float:
    return statistics.median(
        x.rps / y.rps if y.rps else float("inf") for x, y in zip(a, b, strict=True)
    )


def throughput_table(
    results: dict[tuple[str, str], list[Result]], names: list[str], endpoints: list[str]
) -> list[str]:
    head = ["endpoint", "server", "req/s", "p50 ms", "p99 ms", "÷ limit", "÷ Datasette"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for endpoint in endpoints:
        for name in names:
            runs = results.get((endpoint, name))
            if not runs:
                continue
            ratios = []
            for other in ("limit", "datasette"):
                theirs = results.get((endpoint, other))
                keep = name.startswith("paperkg") and theirs
                ratios.append(f"{median_ratio(runs, theirs):.2f}×" if keep and theirs else "")
            errors = sum(r.errors for r in runs)
            cells = [
                endpoint,
                name + (f" ({errors} errors)" if errors else ""),
                f"{statistics.median(r.rps for r in runs):,.0f}",
                f"{statistics.median(r.p50_ms for r in runs):.2f}",
                f"{statistics.median(r.p99_ms for r in runs):.2f}",
                *ratios,
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


# --- databases -----------------------------------------------------------------------------------


@contextmanager
def database(kind: str, models: int, work: Path, server_url: str | None) -> Iterator[str]:
    """A generated graph: a SQLite file in `work`, or a new PostgreSQL database, dropped after."""
    if server_url is None:
        path = work / f"bench-{models}-{uuid.uuid4().hex[:6]}.db"
        with _generated(kind, f"sqlite:///{path}", models) as url:
            yield url
        return
    with postgres_database(server_url, f"paperkg_bench_{models}") as url:
        with _generated(kind, url, models):
            yield url


@contextmanager
def postgres_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of `server_url`, dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _generated(kind: str, url: str, models: int) -> Iterator[str]:
    began = time.perf_counter()
    engine = make_engine(url)
    report = generate(engine, models=models)
    engine.dispose()
    rows = sum(report.rows.values())
    say(f"{kind}: {rows:,} rows in {time.perf_counter() - began:.1f} s")
    yield url


def machine(load_at_start: float) -> list[str]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("fastapi", "starlette", "uvicorn", "sqlalchemy", "orjson", "datasette")
        if _installed(name)
    )
    wrk_version = "wrk" if shutil.which("wrk") else "asyncio + httpx (wrk not installed)"
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; 1-minute load average at the start"
        f" {load_at_start:.2f}, at the end {os.getloadavg()[0]:.2f}"
        " (other work shares the machine)",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; {versions}",
        f"- load generator: {wrk_version}, on the same machine",
    ]


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


# --- the whole run -------------------------------------------------------------------------------


def throughput(args: argparse.Namespace, work: Path) -> list[str]:
    dialect = "PostgreSQL" if args.database_url else "SQLite"
    models = scale(args.scale)
    with database(f"{dialect} {args.scale}", models, work, args.database_url) as url:
        servers = {
            "paperkg": paperkg("paperkg", url, "on"),
            "paperkg (no cache)": paperkg("paperkg-nocache", url, "off"),
            "limit": limit(url),
        }
        ds_name = None
        if args.database_url is None and shutil.which(str(BIN / "datasette")):
            path = Path(make_url(url).database or "")
            servers["datasette"] = datasette(path, work)
            ds_name = path.stem
        ready = {"paperkg": "/health", "paperkg-nocache": "/health", "limit": "/models?limit=1"}
        with running(list(servers.values()), work, ready):
            notes = check_content(servers, ds_name)
            paths = {
                e.name: {
                    name: (e.datasette.replace("{db}", ds_name or "") if name == "datasette"
                           else e.paperkg)
                    for name in servers
                }
                for e in ENDPOINTS
            }  # fmt: skip
            results = measure(
                servers, paths, rounds=args.rounds, seconds=args.seconds,
                connections=args.connections,
            )  # fmt: skip
            rss = {name: server.peak_rss_mb() for name, server in servers.items()}
            startup = statistics.median(
                servers[name].ready_seconds for name in ("paperkg", "paperkg (no cache)")
            )
    lines = [f"### {dialect}, `{args.scale}` graph, {args.connections} connections", ""]
    lines += throughput_table(results, list(servers), [e.name for e in ENDPOINTS])
    lines += ["", "Peak RSS per server: " + ", ".join(f"{n} {m:.0f} MB" for n, m in rss.items())]
    lines += [f"`paperkg serve` ready (GET /health 200): {startup:.2f} s from process start."]
    lines += ["", "Content checks: " + "; ".join(notes) + "."]
    return lines


def scale_check(args: argparse.Namespace, work: Path) -> list[str]:
    """p50 of the scale questions, one connection, deck-size graph against the big one."""
    dialect = "PostgreSQL" if args.database_url else "SQLite"
    models = scale(args.scale_check)
    with (
        database(f"{dialect} deck", 0, work, args.database_url) as small,
        database(f"{dialect} {args.scale_check}", models, work, args.database_url) as big,
    ):
        servers = {
            "deck": paperkg("scale-deck", small, "off"),
            args.scale_check: paperkg("scale-big", big, "off"),
            "big, cached": paperkg("scale-big-cached", big, "on"),
        }
        ready = {s.name: "/health" for s in servers.values()}
        with running(list(servers.values()), work, ready):
            pair = list(servers)[:2]
            paths = {name: dict.fromkeys(pair, path) for name, path in SCALE_QUESTIONS}
            results = measure(servers, paths, rounds=args.rounds, seconds=args.seconds,
                              connections=1)  # fmt: skip
            loaded = {
                e.name: {"big, cached": e.paperkg, args.scale_check: e.paperkg} for e in ENDPOINTS
            }
            measure(servers, loaded, rounds=1, seconds=args.seconds, connections=32)
            rss = {name: server.peak_rss_mb() for name, server in servers.items()}
    head = f"| question | p50 deck ms | p50 {args.scale_check} ms | ratio (target ≤ 1.5×) |"
    lines = [f"### {dialect}: latency at `{args.scale_check}` against the deck, one connection",
             "", head, "|---|---|---|---|"]  # fmt: skip
    for name, path in SCALE_QUESTIONS:
        deck_runs, big_runs = results[(name, "deck")], results[(name, args.scale_check)]
        ratio = statistics.median(
            b.p50_ms / d.p50_ms for d, b in zip(deck_runs, big_runs, strict=True)
        )
        cells = [
            f"{name} `{path}`",
            f"{statistics.median(r.p50_ms for r in deck_runs):.2f}",
            f"{statistics.median(r.p50_ms for r in big_runs):.2f}",
            f"{ratio:.2f}×",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Peak RSS serving the `{args.scale_check}` graph under load (32 connections, "
              "the four endpoints): " + ", ".join(f"{n} {m:.0f} MB" for n, m in rss.items()
                                                  if n != "deck") + "."]  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="A PostgreSQL server (default: SQLite files).")
    parser.add_argument("--scale", default="deck", help="deck, 10k, 100k or a number of models.")
    parser.add_argument("--scale-check", help="Also compare latency at this scale (e.g. 100k).")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    # Stopped from outside: still stop every server this run started (the `finally` blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="paperkg-bench-") as tmp:
        work = Path(tmp)
        sections = [] if args.skip_throughput else throughput(args, work)
        if args.scale_check:
            sections += ["", *scale_check(args, work)]
    lines = [f"## `{command.strip()}`", "", *machine(load_at_start), "", *sections, ""]
    report = "\n".join(lines)
    sys.stdout.write(report + "\n")
    with args.out.open("a") as out:
        out.write("\n" + report)


if __name__ == "__main__":
    main()
