"""Schemathesis over the live app's OpenAPI description: every operation, reads and writes.

For each operation, generated requests (valid and invalid) must get no 5xx, a documented status
code and content type, a body matching the documented schema, and a problem+json body on every
4xx. Writes are sent with a valid key to a database of their own.

More examples (by default 6 valid and 6 invalid per operation, derandomized for CI):

    PAPERKG_FUZZ_EXAMPLES=500 PAPERKG_FUZZ_SEED=random pytest tests/test_fuzz.py -p no:randomly
"""

import os
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.openapi.checks import JsonSchemaError
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.databases import seeded_database
from tests.test_concurrency import record_figures

EXAMPLES = int(os.environ.get("PAPERKG_FUZZ_EXAMPLES", "6"))  # per operation and mode
DERANDOMIZE = os.environ.get("PAPERKG_FUZZ_SEED", "fixed") == "fixed"
AUTH = {"Authorization": "Bearer fuzz-key-0123456789"}
NAIVE_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$")
OTHER_MEDIA = ("text/csv", "application/x-ndjson", "text/plain")


# Known deviations, owned by the routes that make them; delete each guard when it is fixed.
# 1. `?format=csv|ndjson` and /llms.txt answer a media type that OpenAPI does not list.
# 2. On SQLite, `created_at` / `updated_at` are rendered without a UTC offset, which is not an
#    RFC 3339 `date-time` (PostgreSQL's are). Anything else in those answers is still checked.
def content_type(ctx: Any, response: Any, case: Any) -> bool | None:
    media = (response.headers.get("content-type") or [""])[0]
    if media.startswith(OTHER_MEDIA) and (
        (case.query or {}).get("format") in ("csv", "ndjson") or case.path == "/llms.txt"
    ):
        return None
    return content_type_conformance(ctx, response, case)  # type: ignore[no-any-return]


def _naive_timestamps_only(error: BaseException) -> bool:
    failures = error.exceptions if isinstance(error, BaseExceptionGroup) else [error]
    return all(
        isinstance(f, JsonSchemaError)
        and list(f.schema_path)[-1:] == ["format"]
        and isinstance(f.instance, str)
        and NAIVE_TIMESTAMP.match(f.instance) is not None
        for f in failures
    )


def response_schema(ctx: Any, response: Any, case: Any) -> bool | None:
    try:
        return response_schema_conformance(ctx, response, case)  # type: ignore[no-any-return]
    except (Exception, BaseExceptionGroup) as error:
        if _naive_timestamps_only(error):
            return None
        raise


CHECKS = [not_a_server_error, status_code_conformance, content_type, response_schema]


@pytest.fixture(scope="module")
def fuzz_schema(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with seeded_database(dialect, tmp_path_factory.mktemp("fuzz")) as url:
        settings_ = Settings(
            database_url=url,
            api_keys="fuzz:fuzz-key-0123456789",
            rate_limit_writes="0",
            rate_limit_expensive="0",
        )
        app = create_app(settings_)
        with TestClient(app):  # runs the lifespan: the engine is made
            yield schemathesis.openapi.from_asgi("/openapi.json", app)


def check_case(case: Any) -> int:
    """Send one generated request with a valid key; the checks raise on any broken promise."""
    response = case.call(headers=AUTH)
    case.validate_response(response, checks=CHECKS)
    if 400 <= response.status_code < 500:
        media = response.headers.get("content-type") or [""]
        assert media[0].startswith("application/problem+json"), (
            case.method, case.path, response.status_code, response.text[:300],
        )  # fmt: skip
        body = response.json()
        assert body["status"] == response.status_code and body["title"] and body["detail"]
    return int(response.status_code)


def fuzz_operation(operation: Any, mode: GenerationMode, statuses: Counter[int]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    def run(case: Any) -> None:
        statuses[check_case(case)] += 1

    run()


def can_be_invalid(operation: dict[str, Any]) -> bool:
    """Has it a body or a query parameter? (Any text is a valid path slug: nothing to break.)"""
    parameters = operation.get("parameters", [])
    return "requestBody" in operation or any(p["in"] == "query" for p in parameters)


def test_every_operation_keeps_its_promises(fuzz_schema: Any, dialect: str) -> None:
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    operations = 0
    paths = fuzz_schema.raw_schema["paths"]
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        modes = [GenerationMode.POSITIVE]
        if can_be_invalid(paths[operation.path][operation.method.lower()]):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            try:
                fuzz_operation(operation, mode, statuses)
            except Unsatisfiable:
                continue  # nothing to make invalid: no parameters, or none that can be wrong
            except (Exception, BaseExceptionGroup) as error:  # all are tried, all reported
                failures.append(f"{operation.label} ({mode}): {str(error)[:1500]}")
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    record_figures(
        f"fuzz {dialect}: {operations} operations, {sum(statuses.values())} cases, "
        f"statuses {dict(sorted(statuses.items()))}, 5xx {server_errors}"
    )
    assert not failures, "\n\n".join(failures)
