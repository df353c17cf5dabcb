"""``/readyz`` says 503 once the store's KB version is older than ``max_staleness_s`` (issue 5).

The store here is a real SQLite KB behind a fake that adds ``version_age()``, the
method a PostgreSQL store with a version watcher has; the live PostgreSQL case
(the database stopped under load) is in ``tests/test_replicas.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from live_server import DEFAULT_FAQ

from faqtual.config import Settings
from faqtual.factory import open_service
from faqtual.retrieval.embed import HashEmbedder
from faqtual.store.base import Store
from faqtual.web.app import create_app


class AgingStore:
    """A real store whose version the "database" last confirmed ``age`` seconds ago (``None``: no watcher)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.age: float | None = None

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def version_age(self) -> float | None:
        return self.age


@pytest.fixture
def aging(tmp_path: Path) -> Iterator[tuple[TestClient, AgingStore]]:
    settings = Settings(max_staleness_s=5.0, rate_limit=0.0)
    service = open_service(settings, kb=str(tmp_path / "kb.sqlite"), create=True, embedder=HashEmbedder())
    service.ingest([DEFAULT_FAQ])
    store = AgingStore(service.store)
    service.store = store  # type: ignore[assignment]
    with TestClient(create_app(service, settings)) as client:
        yield client, store
    store.inner.close()


def test_readyz_turns_503_past_max_staleness_and_back(aging: tuple[TestClient, AgingStore]) -> None:
    client, store = aging
    assert client.get("/readyz").json() == {"ok": True, "kb_version": 1}
    store.age = 4.9
    assert client.get("/readyz").status_code == 200
    store.age = 12.0
    stale = client.get("/readyz")
    assert stale.status_code == 503
    body = stale.json()
    assert set(body) == {"ok", "error", "status"} and body["status"] == 503
    assert "12 s ago" in body["error"] and "max_staleness_s" in body["error"]
    # Still answering from the last index while stale; the header names the version that answered.
    answer = client.get("/v1/ask", params={"q": "Why does my eye close when I smile?"})
    assert answer.status_code == 200 and answer.headers["x-kb-version"] == "1"
    store.age = 0.2
    assert client.get("/readyz").status_code == 200


def test_small_talk_has_no_kb_version_header(aging: tuple[TestClient, AgingStore]) -> None:
    client, _ = aging
    assert "x-kb-version" not in client.get("/v1/ask", params={"q": "hello"}).headers
