"""Analytics and the dashboard over data seeded through the API (scripted model)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.charts: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.charts.append(dict(attrs).get("data-chart") or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _seed(client: Any) -> dict[str, str]:
    ids = {}
    ids["price"] = client.post("/v1/answer", json={"question": "Was kostet das Abo City?"}).json()["id"]
    client.post("/v1/answer", json={"question": "Wie viel kostet das Abo City im Monat?"})
    for q in ("Do you offer satellite TV packages?", "Can I get satellite TV from you?", "Do you sell satellite TV?"):
        refused = client.post("/v1/answer", json={"question": q}).json()
        assert refused["reason"] in ("not_in_knowledge_base", "unsupported_answer")  # both are gaps
    client.post("/v1/answer", json={"question": "I want to talk to a human"})
    client.post("/v1/feedback", json={"answer_id": ids["price"], "rating": "up"})
    client.post("/v1/feedback", json={"answer_id": ids["price"], "rating": "down", "comment": "zu knapp"})
    draft = client.post("/v1/drafts", json={"messages": [{"role": "customer", "text": "Was kostet das Abo City?"}]})
    client.post(f"/v1/drafts/{draft.json()['id']}/outcome", json={"outcome": "sent"})
    return ids


def test_analytics_counts_what_happened(make_client: Any) -> None:
    reply = "Das Abo City kostet 34,90 € pro Monat [1]."
    client, _ = make_client(reply, reply, "NO_ANSWER", "NO_ANSWER", "NO_ANSWER", reply)
    _seed(client)
    a = client.get("/v1/analytics").json()
    assert a["questions"] == 6
    assert a["rates"]["answer"] == 2 / 6 and a["rates"]["refuse"] == 3 / 6 and a["rates"]["handoff"] == 1 / 6
    assert sum(d["total"] for d in a["volume_per_day"]) == 6 and len(a["volume_per_day"]) == 30
    assert a["handoff_reasons"] == {"explicit_request": 1}
    gap = a["knowledge_gaps"][0]
    assert gap["count"] == 3 and "satellite" in gap["label"].lower()  # one gap: the article to write
    assert all("satellite" not in g["label"].lower() for g in a["knowledge_gaps"][1:])
    assert a["topics"][0]["count"] >= 2
    assert a["most_cited"][0]["doc_id"] == "abos-und-preise.md" and "abos-und-preise.md" not in a["never_cited"]
    assert a["feedback"] == {"up": 1, "down": 1, "up_ratio": 0.5, "recent_down_comments": ["zu knapp"]}
    assert a["drafts"]["sent"] == 1 and a["drafts"]["acceptance"] == 1.0
    assert a["latency_ms"]["n"] == 2 and a["latency_ms"]["p50"] > 0


def test_dashboard_renders_charts_and_the_gap(make_client: Any) -> None:
    reply = "Das Abo City kostet 34,90 € pro Monat [1]."
    client, _ = make_client(reply, reply, "NO_ANSWER", "NO_ANSWER", "NO_ANSWER", reply)
    _seed(client)
    r = client.get("/dashboard")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = _Page()
    page.feed(r.text)
    assert {
        "volume per day",
        "Unanswered questions by topic",
        "Most cited documents",
        "Feedback",
        "Agent drafts",
    } <= set(page.charts)
    text = " ".join(page.text)
    assert "satellite" in text.lower() and "50 %" in text  # the gap and the positive-feedback share
    assert "http" not in r.text.split("<body>")[0]  # nothing loaded from elsewhere


def test_analytics_ranges(make_client: Any) -> None:
    client, _ = make_client()
    for day in ("yesterday", "0", "2026-02-30", "20260501"):  # a calendar day as YYYY-MM-DD, nothing else
        assert client.get("/v1/analytics", params={"from": day}).status_code == 422, day
    empty = client.get("/v1/analytics", params={"from": "2020-01-01", "to": "2020-01-07"}).json()
    assert empty["questions"] == 0 and empty["rates"]["answer"] is None and len(empty["volume_per_day"]) == 7
    backwards = client.get("/v1/analytics", params={"from": "2026-05-02", "to": "2026-05-01"}).json()
    assert backwards["questions"] == 0 and backwards["volume_per_day"] == []  # an empty window
    years = client.get("/v1/analytics", params={"from": "2000-01-01", "to": "2026-01-01"}).json()
    assert years["volume_per_day"] == []  # a window over a year lists only the days with questions


def test_clustering_by_hand() -> None:
    from rag_service.desk.analytics import cluster

    a, a2, b = [1.0, 0.0, 0.0], [0.96, 0.28, 0.0], [0.0, 0.0, 1.0]
    assert cluster([a, b, a2], 0.9) == [[0, 2], [1]]  # a2 joins a (cosine 0.96); b starts its own
    assert cluster([a, b, a2], 0.99) == [[0], [1], [2]]
    assert cluster([], 0.9) == []
