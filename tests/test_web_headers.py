"""Security headers on every response: pages, API, static files, docs, and errors (4xx and 500)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from faqtual.config import Settings
from faqtual.service import FaqService
from faqtual.web.app import create_app
from faqtual.web.headers import SECURITY_HEADERS, WIDGET_PATH

pytestmark = pytest.mark.model


@pytest.fixture
def client(seed_service: FaqService) -> Iterator[TestClient]:
    app = create_app(seed_service, Settings(max_body_bytes=1000, rate_limit=1.0, rate_burst=2))

    @app.get("/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def assert_secured(response: object, *, framable: bool = False) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name in ("X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy", "Content-Security-Policy"):
        assert headers.get(name), f"{name} missing on {response}"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    csp = headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    if not framable:
        assert headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in csp


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/admin", 200),
        ("GET", "/v1/ask?q=what+is+synkinesis", 200),
        ("GET", "/v1/entries", 200),
        ("GET", "/healthz", 200),
        ("GET", "/metrics", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/static/faqtual.js", 200),
        ("GET", "/no-such-page", 404),
        ("GET", "/v1/entries/no-such-entry", 404),
        ("GET", "/v1/ask", 422),
        ("GET", "/v1/ask?q=", 400),
        ("GET", "/v1/admin/feedback", 401),
        ("POST", "/v1/ask", 422),
    ],
)
def test_every_response_carries_the_security_headers(client: TestClient, method: str, path: str, status: int) -> None:
    response = client.request(method, path)
    assert response.status_code == status, response.text
    assert_secured(response)


def test_too_large_and_too_many_requests_carry_them_too(client: TestClient) -> None:
    big = client.post("/v1/ask", json={"question": "x" * 5000})
    assert big.status_code == 413
    assert_secured(big)
    statuses = [client.get("/v1/ask", params={"q": "is synkinesis permanent"}) for _ in range(4)]
    limited = next(r for r in statuses if r.status_code == 429)
    assert_secured(limited)


def test_an_unexpected_error_is_a_500_in_the_error_shape_with_the_headers(client: TestClient) -> None:
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "ok": False,
        "error": "Internal server error; the server log has the details.",
        "status": 500,
    }
    assert "a bug" not in response.text
    assert_secured(response)


def test_the_docs_page_allows_only_its_own_inline_script_by_hash(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert_secured(response)
    script_src = re.search(r"script-src ([^;]+)", response.headers["Content-Security-Policy"])
    assert script_src is not None
    assert re.fullmatch(r"'self'( 'sha256-[A-Za-z0-9+/=]+')+", script_src.group(1))


def test_the_widget_script_may_be_loaded_by_other_sites(client: TestClient) -> None:
    response = client.get(WIDGET_PATH)
    assert response.status_code == 200
    assert_secured(response, framable=True)
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "X-Frame-Options" not in response.headers
    page = client.get("/")
    assert page.headers["Cross-Origin-Resource-Policy"] == SECURITY_HEADERS["Cross-Origin-Resource-Policy"]
