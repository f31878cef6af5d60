"""Assertions shared by the test modules."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from starlette.testclient import TestClient


def assert_problem(
    response: httpx.Response, status: int, param: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem of `status`; with `param`, it names that parameter."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    assert "Traceback" not in response.text
    if param is not None:
        assert param in body["detail"], body
        assert any(e["param"] == param for e in body.get("errors", [])), body
    return body


@contextmanager
def counted_statements(client: TestClient) -> Iterator[list[str]]:
    """The SQL statements the app runs meanwhile (the ETag's version read included)."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
