"""The response cache: hits and misses, 304s, invalidation by any writer, the off switch, bounds."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from api import migrate
from api.app import create_app
from api.cache import Entry, ResponseCache
from api.settings import Settings
from seed.load import seed_database
from tests.databases import seeded_database


@pytest.fixture(scope="module")
def cache_url(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A seeded database of its own: these tests read only, each through a new app and cache."""
    with seeded_database(dialect, tmp_path_factory.mktemp("cache")) as url:
        yield url


@contextmanager
def serving(url: str, **settings: Any) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=url, **settings))) as client:
        yield client


def test_a_repeated_get_is_a_hit_with_the_same_body_and_etag(cache_url: str) -> None:
    with serving(cache_url) as client:
        first = client.get("/models/llama")
        again = client.get("/models/llama", headers={"Accept-Encoding": "identity"})
        other = client.get("/models/llama-2")
    assert first.status_code == again.status_code == 200
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-type"] == "application/json"
    assert int(again.headers["content-length"]) == len(again.content)
    assert other.headers["x-cache"] == "miss" and other.json()["slug"] == "llama-2"


def test_a_hit_answers_a_matching_if_none_match_with_304(cache_url: str) -> None:
    with serving(cache_url) as client:
        etag = client.get("/timeline?limit=5").headers["etag"]
        assert client.get("/timeline?limit=5").headers["x-cache"] == "hit"
        answer = client.get("/timeline?limit=5", headers={"If-None-Match": etag})
        stale = client.get("/timeline?limit=5", headers={"If-None-Match": 'W/"0-0"'})
    assert answer.status_code == 304 and answer.content == b""
    assert answer.headers["etag"] == etag
    assert stale.status_code == 200 and stale.headers["x-cache"] == "hit"


def test_query_strings_and_accept_headers_are_separate_entries(cache_url: str) -> None:
    with serving(cache_url) as client:
        five = client.get("/models?limit=5")
        six = client.get("/models?limit=6")
        as_csv = client.get("/models?limit=5", headers={"Accept": "text/csv"})
        csv_again = client.get("/models?limit=5", headers={"Accept": "text/csv"})
    assert len(five.json()["items"]) == 5 and len(six.json()["items"]) == 6
    assert six.headers["x-cache"] == "miss"
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert csv_again.headers["x-cache"] == "hit" and csv_again.text == as_csv.text
    assert five.headers["etag"] != as_csv.headers["etag"]


def test_gzip_applies_to_hits_for_the_clients_that_ask(cache_url: str) -> None:
    with serving(cache_url) as client:
        plain = client.get("/models/deepseek-v3", headers={"Accept-Encoding": "identity"})
        zipped = client.get("/models/deepseek-v3", headers={"Accept-Encoding": "gzip"})
        plain_again = client.get("/models/deepseek-v3", headers={"Accept-Encoding": "identity"})
    assert zipped.headers["x-cache"] == "hit" and zipped.headers["content-encoding"] == "gzip"
    assert zipped.json() == plain.json()
    assert "content-encoding" not in plain_again.headers
    assert plain_again.content == plain.content


def test_errors_health_and_credentials_are_never_cached(cache_url: str) -> None:
    with serving(cache_url) as client:
        missing = [client.get("/models/llama-9") for _ in range(2)]
        health = [client.get("/health") for _ in range(2)]
        keyed = [client.get("/models/qwen3", headers={"Authorization": "Bearer x"}) for _ in "ab"]
        got = client.get("/models/qwen3")
        head = client.head("/models/qwen3")  # answered like the GET, without its body
    assert [r.status_code for r in missing] == [404, 404]
    assert all("x-cache" not in r.headers for r in missing + health + keyed)
    assert all("etag" not in r.headers for r in health)
    assert keyed[1].headers["etag"]  # still tagged, and still answered with a 304 on a match
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == got.headers["etag"]


def test_a_version_bump_by_another_connection_invalidates_every_entry(
    empty_url: str, empty_engine: Engine
) -> None:
    migrate.upgrade(empty_engine)
    seed_database(empty_engine)
    with serving(empty_url) as client:
        before = client.get("/models/llama")
        assert client.get("/models/llama").headers["x-cache"] == "hit"
        with empty_engine.begin() as connection:  # another worker's write, bump included
            connection.execute(text("UPDATE model SET name = 'LLaMA One' WHERE slug = 'llama'"))
            connection.execute(text("UPDATE data_version SET version = version + 1"))
        after = client.get("/models/llama")
        conditional = client.get("/models/llama", headers={"If-None-Match": before.headers["etag"]})
        again = client.get("/models/llama")
    assert after.headers["x-cache"] == "miss" and after.json()["name"] == "LLaMA One"
    assert after.headers["etag"] != before.headers["etag"]
    assert conditional.status_code == 200
    assert again.headers["x-cache"] == "hit" and again.json()["name"] == "LLaMA One"


def test_the_cache_can_be_switched_off(cache_url: str) -> None:
    with serving(cache_url, cache="off") as client:
        first = client.get("/models/llama")
        again = client.get("/models/llama", headers={"If-None-Match": first.headers["etag"]})
        plain = client.get("/models/llama")
    assert "x-cache" not in first.headers and "x-cache" not in plain.headers
    assert again.status_code == 304  # ETags and conditional GETs stay
    assert plain.content == first.content


def test_the_cache_keeps_its_entry_bound(cache_url: str) -> None:
    with serving(cache_url, cache_max_entries=2) as client:
        for slug in ("llama", "llama-2", "mistral-7b"):
            client.get(f"/models/{slug}")
        assert client.get("/models/mistral-7b").headers["x-cache"] == "hit"
        assert client.get("/models/llama").headers["x-cache"] == "miss"  # the oldest went
    with serving(cache_url, cache_max_bytes=4096) as client:
        # An answer over a sixteenth of the cache is served but never kept.
        for _ in range(2):
            assert client.get("/timeline?limit=50").headers.get("x-cache") == "miss"


def entry(size: int) -> Entry:
    return Entry('W/"1-x"', [], b"x" * size)


def test_least_recently_used_entries_go_first_when_bytes_run_out() -> None:
    cache = ResponseCache(max_entries=100, max_bytes=1600)  # one entry: at most 100 bytes
    keys = [("", f"/{n}", b"", b"") for n in range(17)]
    assert cache.get(keys[0], 1) is None
    for key in keys[:16]:
        assert cache.put(key, 1, entry(100))
    assert cache.bytes == 1600 and len(cache) == 16
    assert cache.get(keys[0], 1) is not None  # now the most recently used
    assert cache.put(keys[16], 1, entry(100))
    assert cache.bytes <= cache.max_bytes
    assert cache.get(keys[1], 1) is None  # the least recently used went
    assert cache.get(keys[0], 1) is not None
    assert not cache.put(("", "/big", b"", b""), 1, entry(101))  # over a sixteenth
    assert not cache.put(("", "/old", b"", b""), 0, entry(1))  # made at an older version
    assert cache.get(keys[0], 2) is None and len(cache) == 0  # a newer version drops all
