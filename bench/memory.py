"""Peak memory of one worker streaming `/export` and `/graph`: a deck-size graph against 100k.

    python bench/memory.py                       # SQLite; the generated graphs are kept in /tmp
    python bench/memory.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Each download gets a fresh `paperkg serve` (one uvicorn worker, 127.0.0.1, a free port, the
response cache off), so each peak is that answer's own. While the body is read (and counted,
not kept), the server's resident memory is sampled from /proc/<pid>/status every 10 ms (VmRSS),
and its high-water mark (VmHWM, reset once the server is ready where the kernel allows) is read
at the end; the peak is the larger of the two. Constant memory: the peak at 100k is about the
peak at deck size. On PostgreSQL, `--database-url` names a server on which two databases are
created for the run and dropped afterwards. Only the processes this script starts are stopped.
"""

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from run import free_port, postgres_database, say  # bench/run.py, beside this file

from api.db import make_engine
from api.generate import generate

ROOT = Path(__file__).resolve().parent.parent
PAPERKG = str(Path(sys.executable).parent / "paperkg")
ENDPOINTS = [
    ("/export", "/export"),
    ("/graph json", "/graph"),
    ("/graph cytoscape", "/graph?format=cytoscape"),
    ("/graph graphml", "/graph?format=graphml"),
    ("/graph jsonld", "/graph?format=jsonld"),
    ("/graph csv (zip)", "/graph?format=csv"),
    ("/graph csv nodes", "/graph?format=csv&part=nodes"),
    ("/graph csv edges", "/graph?format=csv&part=edges"),
    ("/graph dot", "/graph?format=dot"),
    ("/graph mermaid", "/graph?format=mermaid"),
]
MB = 1024 * 1024


# --- databases -----------------------------------------------------------------------------------


def build(url: str, models: int, links_per_model: int) -> None:
    began = time.perf_counter()
    engine = make_engine(url)
    report = generate(engine, models=models, links_per_model=links_per_model)
    engine.dispose()
    say(f"generated {sum(report.rows.values()):,} rows in {time.perf_counter() - began:.0f} s")


def sqlite_graph(cache: Path, models: int, links_per_model: int) -> str:
    """A SQLite file of this size in `cache`, generated the first time only."""
    path = cache / f"graph-{models}x{links_per_model}.db"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.db")
        partial.unlink(missing_ok=True)
        build(f"sqlite:///{partial}", models, links_per_model)
        partial.rename(path)
    return f"sqlite:///{path}"


@contextmanager
def postgres_graphs(server: str, sizes: list[int], links_per_model: int) -> Iterator[list[str]]:
    """A new database per size on this server, each generated, all dropped afterwards."""
    with ExitStack() as stack:
        urls = []
        for size in sizes:
            url = stack.enter_context(postgres_database(server, f"paperkg_memory_{size}"))
            build(url, size, links_per_model)
            urls.append(url)
        yield urls


# --- the server and its memory -------------------------------------------------------------------


def memory_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_high_water_mark(pid: int) -> bool:
    """Restart VmHWM from the current RSS (Linux 4.0+: `5` to /proc/<pid>/clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@contextmanager
def serving(url: str, log: Path) -> Iterator[tuple[str, int]]:
    """`paperkg serve` on a free port: (base URL, process id), stopped by its id afterwards."""
    port = free_port()
    env = {**os.environ, "PAPERKG_DATABASE_URL": url, "PAPERKG_CACHE": "off",
           "PAPERKG_RATE_LIMIT_EXPENSIVE": "0", "PAPERKG_LOG_LEVEL": "warning"}  # fmt: skip
    command = [PAPERKG, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise SystemExit(f"paperkg serve exited; see {log}")
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"paperkg serve did not answer /health; see {log}")
            time.sleep(0.1)
        yield base, process.pid
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Sampler(threading.Thread):
    """The largest VmRSS seen, sampling every 10 ms until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                self.peak = max(self.peak, memory_mb(self.pid, "VmRSS"))
            except OSError:
                return
            self.done.wait(0.01)


@dataclass
class Download:
    size: int
    seconds: float
    ready_mb: float  # resident memory once the server answered /health
    peak_mb: float


def download(url: str, path: str, log: Path) -> Download:
    with serving(url, log) as (base, pid):
        ready = memory_mb(pid, "VmRSS")
        reset = reset_high_water_mark(pid)
        sampler = Sampler(pid)
        sampler.start()
        size = 0
        began = time.perf_counter()
        headers = {"Accept-Encoding": "identity"}
        with httpx.stream("GET", base + path, headers=headers, timeout=900) as response:
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")
            for chunk in response.iter_raw():
                size += len(chunk)
        seconds = time.perf_counter() - began
        sampler.done.set()
        sampler.join()
        peak = max(sampler.peak, memory_mb(pid, "VmHWM") if reset else 0.0)
    return Download(size, seconds, ready, peak)


# --- the run -------------------------------------------------------------------------------------


def table(names: list[str], label: str, small: list[Download], big: list[Download]) -> list[str]:
    head = ["endpoint", "bytes (deck)", f"bytes ({label})", "time deck", f"time {label}",
            "peak RSS deck", f"peak RSS {label}"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for name, d, b in zip(names, small, big, strict=True):
        cells = [f"`{name}`", f"{d.size:,}", f"{b.size:,}", f"{d.seconds:.2f} s",
                 f"{b.seconds:.1f} s", f"{d.peak_mb:.0f} MB", f"{b.peak_mb:.0f} MB"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="A PostgreSQL server (default: SQLite files).")
    parser.add_argument("--models", type=int, default=100_000, help="Models of the big graph.")
    parser.add_argument("--links-per-model", type=int, default=10)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/paperkg-memory-cache"))
    parser.add_argument(
        "--endpoint", action="append", help="Only the endpoints whose name contains this."
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop our servers
    chosen = [
        (name, path) for name, path in ENDPOINTS
        if not args.endpoint or any(word in name for word in args.endpoint)
    ]  # fmt: skip
    label = f"{args.models // 1000}k" if args.models % 1000 == 0 else str(args.models)
    log = args.cache_dir / "serve.log"
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    with graphs(args) as (small_url, big_url):
        results: dict[str, list[Download]] = {"deck": [], "big": []}
        for name, path in chosen:
            for scale, url in (("deck", small_url), ("big", big_url)):
                result = download(url, path, log)
                results[scale].append(result)
                say(f"{name:<18} {scale:<4} {result.size:>13,} B {result.seconds:7.1f} s "
                    f"ready {result.ready_mb:4.0f} MB  peak {result.peak_mb:5.0f} MB")  # fmt: skip
    dialect = "PostgreSQL" if args.database_url else "SQLite"
    links = args.models * args.links_per_model
    lines = [
        f"### {dialect}: one worker, deck-size graph against {args.models:,} models "
        f"({links:,} technique links)",
        "",
        *table([n for n, _ in chosen], label, results["deck"], results["big"]),
        "",
        "Resident memory of an idle worker once ready: "
        f"deck {max(r.ready_mb for r in results['deck']):.0f} MB, "
        f"{label} {max(r.ready_mb for r in results['big']):.0f} MB.",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


@contextmanager
def graphs(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    if args.database_url:
        sizes = [0, args.models]
        with postgres_graphs(args.database_url, sizes, args.links_per_model) as (small, big):
            yield small, big
        return
    small = sqlite_graph(args.cache_dir, 0, args.links_per_model)
    yield small, sqlite_graph(args.cache_dir, args.models, args.links_per_model)


if __name__ == "__main__":
    main()
