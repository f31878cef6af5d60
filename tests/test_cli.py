"""The `paperkg` command line, including a real `paperkg serve` process."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from api.cli import app
from api.db import make_engine
from seed import OVERLAY_PATH

runner = CliRunner()


def test_migrate_seed_and_stats(empty_url: str) -> None:
    assert runner.invoke(app, ["migrate", "--database-url", empty_url]).exit_code == 0
    seeded = runner.invoke(app, ["seed", "--database-url", empty_url])
    assert seeded.exit_code == 0, seeded.output
    assert "model inserted" in seeded.output
    again = runner.invoke(app, ["seed", "--database-url", empty_url])
    assert "nothing to change" in again.output
    stats = runner.invoke(app, ["stats", "--json", "--database-url", empty_url])
    counts = json.loads(stats.output)
    assert counts["entities"]["models"] == 14 and counts["data_version"] == 1


def test_unreachable_database_names_the_url_without_its_password() -> None:
    url = "postgresql+psycopg://paperkg:hunter2@127.0.0.1:1/nowhere"
    result = runner.invoke(app, ["stats", "--database-url", url])
    assert result.exit_code == 1
    assert "127.0.0.1:1/nowhere" in result.output
    assert "hunter2" not in result.output


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_a_bad_overlay_exits_non_zero_and_says_why(empty_url: str, tmp_path: Path) -> None:
    overlay = yaml.safe_load(OVERLAY_PATH.read_text())
    overlay["models"][0]["facts"][0]["sources"] = [{"slide": 99, "quote": "nothing"}]
    broken = tmp_path / "overlay.yaml"
    broken.write_text(yaml.safe_dump(overlay))
    result = runner.invoke(app, ["seed", "--database-url", empty_url, "--overlay", str(broken)])
    assert result.exit_code == 1
    assert "no slide 99" in result.output and "nothing was changed" in result.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_serve_migrates_seeds_and_answers(empty_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PAPERKG_DATABASE_URL": empty_url}
    command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "paperkg serve did not start"
                time.sleep(0.1)
        assert health.status_code == 200 and health.json()["data_version"] == 1
        model = httpx.get(f"http://127.0.0.1:{port}/models/mixtral-8x7b").json()
        assert model["derived_from"]["slug"] == "mistral-7b"
        assert "server" not in httpx.get(f"http://127.0.0.1:{port}/health").headers
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


def test_keys_create_list_revoke(empty_url: str) -> None:
    created = runner.invoke(app, ["keys", "create", "alice", "--database-url", empty_url])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[0]
    assert secret.startswith("pkg_") and len(secret) > 40
    engine = make_engine(empty_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT name, salt, secret_hash FROM api_key")).one()
    engine.dispose()
    assert secret not in "".join(stored) and len(stored.secret_hash) == 64  # a salted hash only
    listed = runner.invoke(app, ["keys", "list", "--database-url", empty_url])
    assert "alice" in listed.output and "active" in listed.output and secret not in listed.output
    again = runner.invoke(app, ["keys", "create", "alice", "--database-url", empty_url])
    assert again.exit_code == 1 and "exists" in again.output
    revoked = runner.invoke(app, ["keys", "revoke", "alice", "--database-url", empty_url])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(app, ["keys", "list", "--database-url", empty_url]).output
    assert runner.invoke(app, ["keys", "revoke", "bob", "--database-url", empty_url]).exit_code == 1
