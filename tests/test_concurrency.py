"""Load: a real `paperkg serve --workers 2`, 8 concurrent writers and paging readers over HTTP.

Every acknowledged (2xx) write is there afterwards, no answer is a 5xx other than a 503 with
`Retry-After`, the data version moved by exactly the number of acknowledged writes, and no key
reaches the server's log. With `PAPERKG_FIGURES=FILE` each test appends its figures to FILE
(docs/reliability.md quotes them).
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from api import migrate
from api.app import create_app
from api.db import make_engine
from api.settings import Settings
from tests.helpers import assert_problem

WRITERS, WRITES_EACH, READERS = 8, 100, 2
DEADLINE_SECONDS = 150  # the whole load, whatever happens
KEYS = {f"writer{n}": f"k3y-{n}-{'x' * 24}" for n in range(WRITERS)}


def record_figures(line: str) -> None:
    """Append one line of figures to the file named by PAPERKG_FIGURES, if any."""
    target = os.environ.get("PAPERKG_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(line.strip() + "\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL the server and its workers (its own process group), no goodbye."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def serving(url: str, workdir: Path, *, workers: int = 2) -> Iterator[Server]:
    """`paperkg serve` on a free port of 127.0.0.1, in a process group of its own."""
    port, log = free_port(), workdir / f"serve-{time.monotonic_ns()}.log"
    env = {
        **os.environ,
        "PAPERKG_DATABASE_URL": url,
        "PAPERKG_API_KEYS": ",".join(f"{name}:{secret}" for name, secret in KEYS.items()),
        "PAPERKG_RATE_LIMIT_WRITES": "0",
        "PAPERKG_LOG_LEVEL": "debug",
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_up(server)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


def wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.process.poll() is None, server.log.read_text()
        try:
            if httpx.get(server.base + "/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("paperkg serve did not start:\n" + server.log.read_text())


def data_version(base: str) -> int:
    return int(httpx.get(base + "/health", timeout=10).json()["data_version"])


@dataclass
class Load:
    """What the clients saw: acknowledged writes (slug -> last name written), statuses."""

    acknowledged: dict[str, str] = field(default_factory=dict)
    acks: int = 0
    attempted: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    unanswered: int = 0
    reads: int = 0
    bad: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    writers: list[threading.Thread] = field(default_factory=list)
    readers: list[threading.Thread] = field(default_factory=list)

    def saw(self, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code >= 500 and not (
                response.status_code == 503 and "retry-after" in response.headers
            ):
                self.bad.append(f"{response.status_code} {response.text[:300]}")


def writer(base: str, n: int, load: Load, stop: threading.Event, count: int) -> None:
    """Creates and updates of labs of its own, one key per writer: `count` writes at most."""
    name, secret = f"writer{n}", KEYS[f"writer{n}"]
    headers = {"Authorization": f"Bearer {secret}"}
    deadline = time.monotonic() + DEADLINE_SECONDS
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for i in range(count):
            if stop.is_set() or time.monotonic() > deadline:
                return
            slug = f"{name}-lab-{i // 2}"
            label = f"Lab {i // 2} of {name}, write {i}"
            with load.lock:
                load.attempted += 1
            try:
                if i % 2 == 0:
                    response = client.post("/labs", json={"slug": slug, "name": label})
                else:
                    body = {"slug": slug, "name": label, "country": "FR"}
                    response = client.put(f"/labs/{slug}", json=body)
            except httpx.TransportError:
                with load.lock:
                    load.unanswered += 1
                if stop.wait(0.05):
                    return
                continue
            load.saw(response)
            if response.is_success:
                with load.lock:
                    load.acks += 1
                    load.acknowledged[slug] = label


def reader(base: str, load: Load, stop: threading.Event) -> None:
    """Pages through /labs and reads /health until the writers are done (bounded)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    with httpx.Client(base_url=base, timeout=30) as client:
        while not stop.is_set() and time.monotonic() < deadline:
            url: str | None = "/labs?limit=20"
            for _ in range(100):
                if url is None:
                    break
                try:
                    response = client.get(url)
                except httpx.TransportError:
                    return
                load.saw(response)
                with load.lock:
                    load.reads += 1
                url = response.json().get("next") if response.status_code == 200 else None
                stop.wait(0.02)  # readers share the machine's CPUs with the server: pace them


def run_load(base: str, *, writes_each: int = WRITES_EACH, wait: bool = True) -> Load:
    """8 writers and 2 readers on threads; with `wait=False` it returns while they run."""
    load = Load()
    load.writers = [
        threading.Thread(target=writer, args=(base, n, load, load.stop, writes_each))
        for n in range(WRITERS)
    ]
    readers = [
        threading.Thread(target=reader, args=(base, load, load.done)) for _ in range(READERS)
    ]
    load.readers = readers
    for thread in load.writers + readers:
        thread.start()
    if wait:
        finish(load)
    return load


def finish(load: Load, *, stop: bool = False) -> None:
    """Wait for the writers (or stop them), then stop the readers."""
    if stop:
        load.stop.set()
    for thread in load.writers:
        thread.join(timeout=DEADLINE_SECONDS)
    load.done.set()
    for thread in load.readers:
        thread.join(timeout=30)


def labs(base: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    url: str | None = "/labs?limit=500"
    with httpx.Client(base_url=base, timeout=30) as client:
        while url is not None:
            page = client.get(url).json()
            found.update({item["slug"]: item for item in page["items"]})
            url = page["next"]
    return found


def assert_all_present(base: str, load: Load) -> None:
    stored = labs(base)
    missing = [slug for slug in load.acknowledged if slug not in stored]
    assert not missing, missing[:10]
    wrong = [s for s, name in load.acknowledged.items() if stored[s]["name"] != name]
    assert not wrong, [(s, stored[s]["name"], load.acknowledged[s]) for s in wrong[:5]]


def test_concurrent_writers_and_readers(empty_url: str, tmp_path: Path, dialect: str) -> None:
    with serving(empty_url, tmp_path) as server:
        before = data_version(server.base)
        started = time.monotonic()
        load = run_load(server.base)
        seconds = time.monotonic() - started
        assert not load.bad, load.bad[:5]
        assert load.unanswered == 0
        assert load.attempted == WRITERS * WRITES_EACH
        assert_all_present(server.base, load)
        assert data_version(server.base) - before == load.acks
        assert load.acks >= 0.95 * load.attempted, load.statuses  # 503s are the exception
        assert load.reads > 0
    log = server.log.read_text()
    assert not any(secret in log for secret in KEYS.values())
    record_figures(
        f"load {dialect}: writes attempted {load.attempted}, acknowledged {load.acks}, present "
        f"{len(load.acknowledged)} labs with their last write; reads {load.reads}; "
        f"statuses {dict(sorted(load.statuses.items()))}; 5xx other than 503: {len(load.bad)}; "
        f"{seconds:.1f} s"
    )


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_a_database_locked_past_the_busy_timeout_is_a_503(empty_url: str) -> None:
    """Another process holds the write lock: the write waits its busy timeout, then a 503."""
    engine = make_engine(empty_url)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(database_url=empty_url, api_keys="k:l0cked-key", busy_timeout_ms=200)
    path = make_url(empty_url).database
    assert path is not None
    with TestClient(create_app(settings)) as client:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            response = client.post(
                "/labs", json={"slug": "locked", "name": "L"},
                headers={"Authorization": "Bearer l0cked-key"},
            )  # fmt: skip
            waited = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert_problem(response, 503)
        assert response.headers["retry-after"] == "1"
        assert "locked" not in response.text and "sqlite" not in response.text.lower()
        assert 0.15 < waited < 5
        assert client.get("/labs/locked").status_code == 404
        retried = client.post(
            "/labs", json={"slug": "locked", "name": "L"},
            headers={"Authorization": "Bearer l0cked-key"},
        )  # fmt: skip
        assert retried.status_code == 201


def test_every_pooled_connection_busy_is_a_503(empty_url: str) -> None:
    """Long downloads can hold every pooled connection: the next request gets a 503 to retry."""
    engine = make_engine(empty_url)
    migrate.upgrade(engine)
    engine.dispose()
    with TestClient(create_app(Settings(database_url=empty_url, cache="off"))) as client:
        assert client.get("/models").status_code == 200  # the data-version reader is set up
        app_state = client.app.state  # type: ignore[attr-defined]
        served_by = app_state.engine
        app_state.engine = create_engine(empty_url, pool_size=1, max_overflow=0, pool_timeout=0.1)
        try:
            with app_state.engine.connect():  # the only connection, held
                response = client.get("/models")
            assert_problem(response, 503)
            assert response.headers["retry-after"] == "1"
            assert client.get("/models").status_code == 200  # released: served again
        finally:
            app_state.engine.dispose()
            app_state.engine = served_by
