"""Assertions shared by the test modules."""

from typing import Any

import httpx


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
