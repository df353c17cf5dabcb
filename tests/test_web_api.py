"""The HTTP API and the patient page, against a real ``faqtual serve`` process on loopback."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_server import CURATOR_KEY, DEFAULT_FAQ, LiveServer, build_kb, copy_kb, serve, server_env

pytestmark = pytest.mark.model

NO_ANSWER = "Sorry, this FAQ has no answer to that question."
OUT_OF_SCOPE = "What is the capital of France?"
IN_SCOPE = "Why does my eye close when I smile?"
AUTH = {"Authorization": f"Bearer {CURATOR_KEY}"}


@pytest.fixture(scope="module")
def built_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_kb(tmp_path_factory.mktemp("kb") / "kb.sqlite")


@pytest.fixture(scope="module")
def cli_contract(built_kb: Path) -> dict[str, object]:
    """What ``faqtual ask --json`` prints for IN_SCOPE: the engine's JSON contract."""
    done = subprocess.run(
        [sys.executable, "-m", "faqtual", "ask", IN_SCOPE, "--kb", str(built_kb), "--json"],
        capture_output=True,
        check=True,
        env=server_env(built_kb.parent, {}),
        timeout=120,
    )
    return dict(json.loads(done.stdout))


@pytest.fixture(scope="module")
def server(built_kb: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A read-mostly server with default settings (question logging off) and a generous rate limit."""
    tmp = tmp_path_factory.mktemp("srv")
    settings = {"rate_limit": "1000", "rate_burst": "1000", "cors_origins": "http://clinic.test"}
    with serve(copy_kb(built_kb, tmp), tmp, **settings) as live:
        yield live


@pytest.fixture
def curated(built_kb: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """A private server whose KB the test may change, with question logging on."""
    with serve(copy_kb(built_kb, tmp_path), tmp_path, rate_limit="1000", rate_burst="1000", log_questions="1") as live:
        yield live


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def assert_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"ok", "error", "status"}
    assert body["ok"] is False and body["status"] == status and body["error"]
    return str(body["error"])


# -- public API ----------------------------------------------------------------


def test_ask_answers_with_the_curated_text_and_a_query_id(
    client: httpx.Client, cli_contract: dict[str, object]
) -> None:
    body = client.post("/v1/ask", json={"question": IN_SCOPE}).json()
    assert {k: v for k, v in body.items() if k != "query_id"} == {**cli_contract, "question": IN_SCOPE}
    assert body["answered"] is True
    assert re.fullmatch(r"[0-9a-f]{32}", body["query_id"])
    best = body["answers"][0]
    entry = client.get(f"/v1/entries/{best['entry_id']}").json()
    assert best["answer"] == entry["answer"]
    assert "eye" in best["answer"]


def test_get_ask_gives_the_same_answer_as_post(client: httpx.Client) -> None:
    posted = client.post("/v1/ask", json={"question": "does botox help", "top": 2}).json()
    got = client.get("/v1/ask", params={"q": "does botox help", "top": 2}).json()
    assert len(got["answers"]) == 2
    assert [a["entry_id"] for a in got["answers"]] == [a["entry_id"] for a in posted["answers"]]
    assert got["query_id"] != posted["query_id"]


def test_out_of_scope_question_gets_the_kbs_no_answer_message(client: httpx.Client) -> None:
    body = client.post("/v1/ask", json={"question": OUT_OF_SCOPE}).json()
    assert body["answered"] is False
    assert body["message"].startswith(NO_ANSWER)


@pytest.mark.parametrize("greeting", ["Hello!", "thank you so much", "Good morning"])
def test_greetings_and_thanks_get_a_polite_reply_and_suggestions(client: httpx.Client, greeting: str) -> None:
    body = client.post("/v1/ask", json={"question": greeting}).json()
    assert body["answered"] is False and body["answers"] == []
    assert not body["message"].startswith(NO_ANSWER)
    assert re.search(r"Hello|welcome|Good", body["message"])
    assert len(body["related"]) == 3
    page = client.get("/", params={"q": greeting}).text
    assert 'id="message-card"' in page and 'id="no-answer"' not in page
    assert body["related"][0].replace("'", "&#39;") in page


def test_entries_list_every_entry_of_the_kb(client: httpx.Client) -> None:
    entries = client.get("/v1/entries").json()
    assert len(entries) == DEFAULT_FAQ.read_text(encoding="utf-8").count("\n## ")
    assert [e["entry_id"] for e in client.get("/v1/entries", params={"search": "botox"}).json()]
    assert all("botox" in (e["question"] + e["answer"]).lower() for e in client.get("/v1/entries?search=botox").json())


@pytest.mark.parametrize(
    ("method", "path", "payload", "status"),
    [
        ("POST", "/v1/ask", {"question": "   "}, 400),
        ("POST", "/v1/ask", {"question": "x" * 2001}, 400),
        ("GET", "/v1/entries/no-such-entry", None, 404),
        ("POST", "/v1/ask", {"question": "botox", "kb": "another-kb"}, 404),
        ("POST", "/v1/ask", {"q": "botox"}, 422),
        ("POST", "/v1/ask", {"question": "botox", "top": 0}, 422),
        ("POST", "/v1/feedback", {"query_id": "q", "entry_id": "no-such-entry", "helpful": True}, 404),
        ("GET", "/v1/admin/feedback", None, 401),
        ("GET", "/no/such/page", None, 404),
    ],
)
def test_every_error_has_one_json_shape(
    client: httpx.Client, method: str, path: str, payload: object, status: int
) -> None:
    assert_error(client.request(method, path, json=payload), status)


def test_big_bodies_get_413_with_or_without_a_content_length(client: httpx.Client) -> None:
    big = b'{"question": "' + b"a" * 70_000 + b'"}'
    headers = {"content-type": "application/json"}
    assert "larger than" in assert_error(client.post("/v1/ask", content=big, headers=headers), 413)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    assert_error(client.post("/v1/ask", content=chunks(), headers=headers), 413)


def test_curator_endpoints_refuse_missing_or_wrong_keys(client: httpx.Client) -> None:
    new = {"question": "Q?", "answer": "A."}
    assert_error(client.post("/v1/admin/entries", json=new), 401)
    assert_error(client.post("/v1/admin/entries", json=new, headers={"Authorization": "Bearer wrong"}), 401)
    assert_error(client.get("/v1/admin/unanswered", headers={"Authorization": CURATOR_KEY}), 401)
    assert client.get("/v1/entries", params={"search": "Q?"}).json() == []


def test_health_ready_and_metrics(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"ok": True}
    assert client.get("/readyz").json()["ok"] is True
    client.post("/v1/ask", json={"question": IN_SCOPE})
    client.post("/v1/ask", json={"question": OUT_OF_SCOPE})
    text = client.get("/metrics").text
    assert re.search(r'^faqtual_requests_total\{route="/v1/ask",method="POST",status="200"\} [1-9]', text, re.M)
    assert re.search(r'^faqtual_questions_total\{outcome="answered"\} [1-9]', text, re.M)
    assert re.search(r'^faqtual_questions_total\{outcome="abstained"\} [1-9]', text, re.M)
    assert re.search(r'^faqtual_request_seconds_bucket\{route="/v1/ask",le="\+Inf"\} [1-9]', text, re.M)
    assert re.search(r"^faqtual_kb_version 1$", text, re.M)


def test_cors_allows_only_the_listed_origins(client: httpx.Client) -> None:
    preflight = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
    allowed = client.options("/v1/ask", headers={"origin": "http://clinic.test", **preflight})
    assert allowed.headers["access-control-allow-origin"] == "http://clinic.test"
    other = client.post("/v1/ask", json={"question": "botox"}, headers={"origin": "http://evil.test"})
    assert "access-control-allow-origin" not in other.headers


def test_openapi_and_docs_are_served_without_a_cdn(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/ask", "/v1/feedback", "/v1/entries", "/v1/admin/entries"} <= set(paths)
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert not re.search(r"(src|href)=['\"]https?://", docs.text)
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_concurrent_questions_are_encoded_together(server: LiveServer) -> None:
    def counter(text: str, name: str) -> int:
        return int(re.search(rf"^{name} (\d+)$", text, re.M).group(1))  # type: ignore[union-attr]

    async def flood() -> list[int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
            replies = await asyncio.gather(*(c.post("/v1/ask", json={"question": f"botox {i}"}) for i in range(32)))
            return [r.status_code for r in replies]

    with server.client() as c:
        before = c.get("/metrics").text
        assert asyncio.run(flood()) == [200] * 32
        after = c.get("/metrics").text
    questions = counter(after, "faqtual_batched_questions_total") - counter(before, "faqtual_batched_questions_total")
    batches = counter(after, "faqtual_encoder_batches_total") - counter(before, "faqtual_encoder_batches_total")
    assert questions == 32
    assert batches < 32


# -- patient page without JavaScript ------------------------------------------


def test_page_form_post_renders_the_answer_card(client: httpx.Client) -> None:
    page = client.post("/", data={"q": IN_SCOPE})
    assert page.status_code == 200
    answer = client.post("/v1/ask", json={"question": IN_SCOPE}).json()["answers"][0]
    assert 'id="answer-card"' in page.text
    assert answer["question"] in page.text
    assert answer["answer"].split("\n\n")[0].replace("'", "&#39;") in page.text
    assert re.search(r"Good match|Possible match", page.text)
    assert 'aria-live="polite"' in page.text
    assert "not medical advice" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_page_related_links_work_without_javascript(client: httpx.Client) -> None:
    page = client.get("/", params={"q": IN_SCOPE}).text
    link = re.search(r'<a data-ask href="(/\?q=[^"]+)">([^<]+)</a>', page)
    assert link is not None
    followed = client.get(link.group(1).replace("&amp;", "&")).text
    assert 'id="answer-card"' in followed or 'id="no-answer"' in followed


def test_page_no_answer_state_shows_the_kbs_message_and_where_to_get_help(client: httpx.Client) -> None:
    page = client.get("/", params={"q": OUT_OF_SCOPE}).text
    assert 'id="no-answer"' in page
    assert NO_ANSWER in page
    assert "https://www.facialpalsy.org.uk/" in page


def test_page_feedback_form_posts_and_thanks(client: httpx.Client) -> None:
    page = client.post("/", data={"q": IN_SCOPE}).text
    query_id = re.search(r'name="query_id" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    entry_id = re.search(r'name="entry_id" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    thanks = client.post("/feedback", data={"query_id": query_id, "entry_id": entry_id, "helpful": "yes"})
    assert thanks.status_code == 200
    assert "Thank you for your feedback." in thanks.text


def test_page_empty_question_shows_an_error_not_a_crash(client: httpx.Client) -> None:
    page = client.post("/", data={"q": "  "}, headers={"accept": "text/html"})
    assert page.status_code == 400
    assert 'role="alert"' in page.text and "The question is empty" in page.text


# -- curator API (writes: a private server per test) --------------------------


def test_script_in_an_entry_renders_as_text(curated: LiveServer) -> None:
    evil = {
        "question": "Can I eat <b>cake</b> after Botox?",
        "answer": "<script>alert('x')</script> Yes & you can eat cake after Botox.",
    }
    with curated.client() as c:
        assert c.post("/v1/admin/entries", json=evil, headers=AUTH).status_code == 201
        page = c.get("/", params={"q": evil["question"]}).text
    assert 'id="answer-card"' in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Yes &amp; you can eat cake" in page
    assert "<script>alert" not in page and "<b>cake</b>" not in page


def test_curator_changes_are_served_within_two_seconds(curated: LiveServer) -> None:
    question = "Is swimming in cold water safe with synkinesis?"
    entry = {"question": question, "answer": "Cold water is fine; keep your eye protected.", "source": "Test"}
    with curated.client() as c:
        created = c.post("/v1/admin/entries", json=entry, headers=AUTH)
        assert created.status_code == 201, created.text
        entry_id, version = created.json()["entry_id"], created.json()["kb_version"]
        start = time.monotonic()
        while c.post("/v1/ask", json={"question": question}).json()["answers"][0]["entry_id"] != entry_id:
            assert time.monotonic() - start < 2.0
        changed = {**entry, "answer": "Updated: cold water is fine."}
        assert c.put(f"/v1/admin/entries/{entry_id}", json=changed, headers=AUTH).json()["kb_version"] == version + 1
        assert c.post("/v1/ask", json={"question": question}).json()["answers"][0]["answer"] == changed["answer"]
        assert c.delete(f"/v1/admin/entries/{entry_id}", headers=AUTH).status_code == 200
        assert_error(c.get(f"/v1/entries/{entry_id}"), 404)
        assert_error(c.delete(f"/v1/admin/entries/{entry_id}", headers=AUTH), 404)


def test_unanswered_questions_are_grouped_and_can_become_alternates(curated: LiveServer) -> None:
    asked = ["Can my dog catch synkinesis from me?", "can my dog catch synkinesis from me", OUT_OF_SCOPE]
    with curated.client() as c:
        for q in asked:
            assert c.post("/v1/ask", json={"question": q}).json()["answered"] is False
        groups = c.get("/v1/admin/unanswered", headers=AUTH).json()
        assert groups[0]["count"] == 2 and "dog" in groups[0]["example"]
        assert len(groups) == 2
        target = "synkinesis-meaning"
        accepted = c.post(
            f"/v1/admin/entries/{target}/alternates",
            json={"question": groups[0]["example"], "query_id": groups[0]["query_ids"][0]},
            headers=AUTH,
        )
        assert accepted.status_code == 200, accepted.text
        assert groups[0]["example"] in c.get(f"/v1/entries/{target}").json()["alternates"]
        after = c.post("/v1/ask", json={"question": groups[0]["example"]}).json()
        assert after["answered"] is True and after["answers"][0]["entry_id"] == target


def test_feedback_is_stored_and_listed_for_the_curator(curated: LiveServer) -> None:
    with curated.client() as c:
        asked = c.post("/v1/ask", json={"question": IN_SCOPE}).json()
        entry_id = asked["answers"][0]["entry_id"]
        sent = {"query_id": asked["query_id"], "entry_id": entry_id, "helpful": False, "comment": "Too short"}
        assert c.post("/v1/feedback", json=sent).status_code == 201
        listed = c.get("/v1/admin/feedback", headers=AUTH).json()
    assert listed[0]["query_id"] == asked["query_id"]
    assert listed[0]["helpful"] is False and listed[0]["comment"] == "Too short"


def test_uploaded_file_is_ingested(curated: LiveServer) -> None:
    faq = b"## Can children get synkinesis?\n\nYes, children can develop it after facial palsy too.\n"
    with curated.client() as c:
        assert_error(c.post("/v1/admin/ingest", files={"file": ("faq.exe", b"x")}, headers=AUTH), 400)
        done = c.post("/v1/admin/ingest", files={"file": ("kids.md", faq)}, headers=AUTH)
        assert done.status_code == 200, done.text
        best = c.post("/v1/ask", json={"question": "Can children get synkinesis?"}).json()["answers"][0]
    assert best["answer"] == "Yes, children can develop it after facial palsy too."


def test_questions_are_not_logged_unless_the_setting_is_on(client: httpx.Client) -> None:
    client.post("/v1/ask", json={"question": "Can my cat catch synkinesis?"})
    assert client.get("/v1/admin/unanswered", headers=AUTH).json() == []


# -- rate limit ----------------------------------------------------------------


def test_a_flooding_client_gets_429_while_health_stays_fast(built_kb: Path, tmp_path: Path) -> None:
    with (
        serve(copy_kb(built_kb, tmp_path), tmp_path, rate_limit="0.05", rate_burst="5") as live,
        live.client() as c,
    ):
        codes = [c.get("/v1/ask", params={"q": "botox"}).status_code for _ in range(12)]
        assert codes[:5] == [200] * 5
        assert 429 in codes
        limited = c.get("/v1/ask", params={"q": "botox"})
        assert "Too many questions" in assert_error(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1
        start = time.monotonic()
        assert c.get("/healthz").status_code == 200
        assert time.monotonic() - start < 0.5


# -- several KBs ---------------------------------------------------------------

SHINGLES_FAQ = """---
name: shingles
---

## What is shingles?

Shingles is a painful rash caused by the chickenpox virus waking up again in a nerve.
"""


def test_several_kbs_answer_in_order_of_precedence(built_kb: Path, tmp_path: Path) -> None:
    source = tmp_path / "shingles.md"
    source.write_text(SHINGLES_FAQ, encoding="utf-8")
    second = build_kb(tmp_path / "shingles.sqlite", source)
    first = copy_kb(built_kb, tmp_path / "first")
    port_args = {"rate_limit": "1000", "rate_burst": "1000"}
    with serve(first, tmp_path, extra_kbs=[second], **port_args) as live, live.client() as c:
        body = c.post("/v1/ask", json={"question": "What is shingles?"}).json()
        assert body["answered"] is True and body["answers"][0]["kb"] == "shingles"
        assert "chickenpox" in body["answers"][0]["answer"]
        only_first = c.post("/v1/ask", json={"question": "What is shingles?", "kb": "synkinesis"}).json()
        assert only_first["answered"] is False
        assert c.post("/v1/ask", json={"question": IN_SCOPE}).json()["answers"][0]["kb"] == "synkinesis"
        entry_id = body["answers"][0]["entry_id"]
        assert c.get(f"/v1/entries/{entry_id}").json()["question"] == "What is shingles?"
        assert [e["entry_id"] for e in c.get("/v1/entries", params={"kb": "shingles"}).json()] == [entry_id]
        sent = {"query_id": body["query_id"], "entry_id": entry_id, "helpful": True}
        assert c.post("/v1/feedback", json=sent).status_code == 201
        assert "'synkinesis', 'shingles'" in assert_error(c.get("/v1/entries", params={"kb": "nope"}), 404)
