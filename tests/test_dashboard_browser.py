"""The dashboard in a real browser: Debian's headless Chromium through Playwright (no browser
download). Renders the page the service serves over seeded data, checks that the charts have
drawn bars and the numbers show, and saves a screenshot to test-artifacts/dashboard.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT
from .test_analytics_api import _seed

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium; .ci/run installs it)"
)


def test_dashboard_renders_in_chromium(make_client: Any) -> None:
    from playwright.sync_api import sync_playwright

    reply = "Das Abo City kostet 34,90 € pro Monat [1]."
    client, _ = make_client(reply, reply, "NO_ANSWER", "NO_ANSWER", "NO_ANSWER", reply)
    _seed(client)
    page_html = client.get("/dashboard").text
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.set_content(page_html, wait_until="load")
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
            assert [u for u in requests if not u.startswith(("about:", "data:"))] == []  # nothing fetched
            page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
        finally:
            browser.close()
    assert (artifacts / "dashboard.png").stat().st_size > 10_000
