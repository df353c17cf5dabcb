"""The patient page in a real headless Chromium (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from live_server import CURATOR_KEY, ROOT, LiveServer, build_kb, copy_kb, free_port, serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = ROOT / "docs" / "answer-card.png"
IN_SCOPE = "Why does my eye close when I smile?"
OUT_OF_SCOPE = "What is the capital of France?"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs Debian's chromium at /usr/bin/chromium: apt-get install -y chromium (CI installs it)",
    ),
]

try:
    from playwright import sync_api
except ImportError:  # in CI the browser tests must run, so there a missing playwright fails
    if os.environ.get("CI"):
        raise
    pytest.skip("needs playwright: pip install -e '.[test]'", allow_module_level=True)
Page = sync_api.Page
expect = sync_api.expect


@pytest.fixture(scope="module")
def clinic_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def built_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_kb(tmp_path_factory.mktemp("browser-kb") / "built.sqlite")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, built_kb: Path, clinic_port: int) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("browser")
    settings = {"rate_limit": "1000", "rate_burst": "1000", "cors_origins": f"http://127.0.0.1:{clinic_port}"}
    with serve(copy_kb(built_kb, tmp / "live"), tmp, **settings) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url)  # type: ignore[attr-defined]
    context.route(re.compile(r"^(?!http://127\.0\.0\.1)"), lambda route: route.abort())  # nothing from outside
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == []


def ask(page: Page, question: str) -> None:
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")


def test_typing_a_question_shows_the_answer_card(page: Page, server: LiveServer) -> None:
    page.goto("/")
    ask(page, IN_SCOPE)
    card = page.locator("#answer-card")
    expect(card).to_be_visible()
    best = httpx.post(f"{server.url}/v1/ask", json={"question": IN_SCOPE}).json()["answers"][0]
    expect(card.locator(".card-answer")).to_contain_text(best["answer"].split("\n\n")[0])
    expect(card.locator(".confidence")).to_have_text(re.compile("Good match|Possible match"))
    expect(page).to_have_url(re.compile(r"/\?q=Why"))
    assert page.locator("#answer").get_attribute("aria-live") == "polite"


def test_clicking_a_related_question_answers_it(page: Page) -> None:
    page.goto("/")
    ask(page, IN_SCOPE)
    link = page.locator("nav[aria-label='Related questions'] a").first
    question = link.inner_text()
    link.click()
    expect(page.locator("#answer-card .card-question")).to_have_text(question)
    expect(page.get_by_label("Your question")).to_have_value(question)


def test_feedback_buttons_thank_the_patient_and_store_it(page: Page, server: LiveServer) -> None:
    page.goto("/")
    ask(page, IN_SCOPE)
    page.locator("#answer-card").get_by_role("button", name="Yes").click()
    expect(page.get_by_role("status")).to_have_text("Thank you for your feedback.")
    stored = httpx.get(f"{server.url}/v1/admin/feedback", headers={"Authorization": f"Bearer {CURATOR_KEY}"}).json()
    assert stored[0]["helpful"] is True


def test_no_answer_state_shows_the_kbs_message(page: Page) -> None:
    page.goto("/")
    ask(page, OUT_OF_SCOPE)
    none = page.locator("#no-answer")
    expect(none).to_contain_text("Sorry, this FAQ has no answer to that question.")
    expect(none.get_by_role("link")).to_have_attribute("href", "https://www.facialpalsy.org.uk/")


def test_a_greeting_gets_a_reply_and_questions_to_click(page: Page) -> None:
    page.goto("/")
    ask(page, "Hello!")
    expect(page.locator("#message-card")).to_contain_text("Hello!")
    suggestion = page.locator("nav[aria-label='Questions you can ask'] a").first
    question = suggestion.inner_text()
    suggestion.click()
    expect(page.locator("#answer-card .card-question")).to_have_text(question)


def test_the_page_works_by_keyboard_alone(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator("a.skip")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Your question")).to_be_focused()
    page.keyboard.type(IN_SCOPE)
    page.keyboard.press("Enter")
    expect(page.locator("#answer-card")).to_be_visible()
    first = page.locator("nav[aria-label='Related questions'] a").first
    question = first.inner_text()
    for _ in range(12):
        page.keyboard.press("Tab")
        if first.evaluate("el => el === document.activeElement"):
            break
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#answer-card .card-question")).to_have_text(question)


def test_the_page_works_without_javascript(browser: object, server: LiveServer) -> None:
    context = browser.new_context(base_url=server.url, java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto("/")
    ask(page, IN_SCOPE)
    expect(page.locator("#answer-card")).to_be_visible()
    page.locator("#answer-card").get_by_role("button", name="No").click()
    expect(page.get_by_role("status")).to_have_text("Thank you for your feedback.")
    context.close()


def test_phone_width_fits_and_the_answer_card_screenshot(browser: object, server: LiveServer) -> None:
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=server.url, viewport={"width": 390, "height": 844}, device_scale_factor=2
    )
    page = context.new_page()
    page.goto("/")
    ask(page, "How long does Botox last for synkinesis?")
    expect(page.locator("#answer-card")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.get_by_role("button", name="Ask").bounding_box()
    assert box is not None and box["width"] <= 390
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
    context.close()


def test_script_in_an_entry_stays_text_when_rendered_by_the_script(page: Page, tmp_path: Path, built_kb: Path) -> None:
    kb = copy_kb(built_kb, tmp_path)
    with serve(kb, tmp_path, rate_limit="1000", rate_burst="1000") as live:
        evil = {
            "question": "Is <i>chocolate</i> bad for synkinesis?",
            "answer": "<img src=x onerror=alert(1)>No, chocolate is not bad for synkinesis.",
        }
        headers = {"Authorization": f"Bearer {CURATOR_KEY}"}
        assert httpx.post(f"{live.url}/v1/admin/entries", json=evil, headers=headers).status_code == 201
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{live.url}/")
        ask(page, evil["question"])
        expect(page.locator("#answer-card .card-answer")).to_have_text(evil["answer"])
        expect(page.locator("#answer-card .card-question")).to_have_text(evil["question"])
        assert page.locator("#answer-card img").count() == 0
        assert dialogs == []


def test_curator_page_edits_an_entry_and_accepts_a_logged_question(page: Page, tmp_path: Path, built_kb: Path) -> None:
    kb = copy_kb(built_kb, tmp_path)
    with serve(kb, tmp_path, rate_limit="1000", rate_burst="1000", log_questions="1") as live:
        unanswered = "Can my dog catch synkinesis from me?"
        assert httpx.post(f"{live.url}/v1/ask", json={"question": unanswered}).json()["answered"] is False
        page.goto(f"{live.url}/admin")
        page.get_by_label("Curator API key").fill("wrong key")
        page.get_by_role("button", name="Use key").click()
        expect(page.get_by_role("status")).to_contain_text("curator API key")
        page.get_by_label("Curator API key").fill(CURATOR_KEY)
        page.get_by_role("button", name="Use key").click()
        expect(page.get_by_role("status")).to_contain_text("1 unanswered groups")

        page.get_by_label("Search entries").fill("botox last")
        rows = page.locator("#entries tr")
        expect(rows).to_have_count(1)
        rows.get_by_role("button", name="Edit").click()
        page.get_by_label("Answer", exact=True).fill("Edited: about three months.")
        page.get_by_role("button", name="Save entry").click()
        expect(page.get_by_role("status")).to_contain_text("Saved")
        asked = httpx.post(f"{live.url}/v1/ask", json={"question": "How long does Botox last?"}).json()
        assert asked["answers"][0]["answer"] == "Edited: about three months."

        row = page.locator("#unanswered tr", has_text=unanswered)
        row.get_by_role("combobox").select_option("synkinesis-meaning")
        row.get_by_role("button", name="Accept").click()
        expect(page.locator("#unanswered tr", has_text=unanswered)).to_have_count(0)
        entry = httpx.get(f"{live.url}/v1/entries/synkinesis-meaning").json()
        assert unanswered in entry["alternates"]


@contextmanager
def clinic_site(port: int, html: str) -> Iterator[str]:
    """Another site on loopback (a different origin) whose page embeds the widget."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_the_widget_answers_inside_another_sites_page(page: Page, server: LiveServer, clinic_port: int) -> None:
    html = (
        "<!doctype html><title>Clinic</title><h1>Our clinic</h1><div id='faqtual'></div>"
        f"<script src='{server.url}/static/widget.js' data-target='faqtual' defer></script>"
    )
    with clinic_site(clinic_port, html) as clinic:
        page.goto(f"{clinic}/")
        page.get_by_label("Ask about synkinesis").fill(IN_SCOPE)
        page.get_by_role("button", name="Ask").click()
        expect(page.locator(".faqtual-widget-answer h3")).to_be_visible()
        expect(page.locator(".faqtual-widget-answer")).to_contain_text("not medical advice")
