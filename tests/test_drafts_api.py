"""Agent drafts through the HTTP API with a scripted model: the customer's name, language and plan,
cited passages, no invented account data, and the agent's outcome."""

from __future__ import annotations

from typing import Any

JANA = {"name": "Jana Weber", "language": "de", "plan": "Abo City", "notes": "Kundin seit 2019"}


def test_draft_for_a_known_customer_uses_name_plan_and_cites(make_client: Any) -> None:
    client, gen = make_client(
        "Das Abo City kostet 34,90 € pro Monat [1].", "Ihr Abo City kostet 34,90 € pro Monat [1]."
    )
    client.put("/v1/customers/c-42", json=JANA)
    client.post("/v1/answer", json={"question": "Was kostet das Abo City?", "customer_id": "c-42"})  # earlier chat
    r = client.post(
        "/v1/drafts",
        json={
            "subject": "Frage zu meinem Abo",
            "messages": [{"role": "customer", "text": "Hallo, was kostet mein Abo eigentlich im Monat?"}],
            "customer_id": "c-42",
        },
    )
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["draft"].startswith("Guten Tag Jana Weber,\n\n")
    assert "Ihr Abo City kostet 34,90 € pro Monat [1]." in d["draft"]
    assert d["draft"].endswith("Viele Grüße\nIhr Kundenservice")
    assert d["language"] == "de" and "34,90 €" in d["citations"][0]["text"]
    assert d["suggested_action"] == "send_reply" and d["agent_checks"] == []
    assert d["summary"].startswith("Jana Weber (Abo City): Frage zu meinem Abo")
    prompt = gen.user_prompts[-1]
    assert "The customer's plan: Abo City" in prompt
    assert "Earlier from this customer: Was kostet das Abo City?" in prompt  # past conversations reach drafts
    assert [g["status"] for g in d["grounding"]] == ["verified"]


def test_account_questions_get_no_invented_account_data(make_client: Any) -> None:
    client, _ = make_client("Ihre Rechnung enthält eine Reparaturgebühr von 23,40 € [1].")
    d = client.post(
        "/v1/drafts",
        json={
            "subject": "Rechnung zu hoch",
            "messages": [{"role": "customer", "text": "Meine letzte Rechnung ist 23,40 € höher als sonst. Warum?"}],
            "customer": {"name": "Jana Weber", "language": "de"},
        },
    ).json()
    assert "23,40" not in d["draft"]  # the model's invented explanation failed the guard
    assert "bitte persönlich antworten" in d["draft"]
    assert d["suggested_action"] == "check_account"
    assert d["agent_checks"] and "Kundenkonto" in d["agent_checks"][0]
    assert "needs account data" in d["summary"]


def test_inline_english_context_and_the_thread_reach_the_model(make_client: Any) -> None:
    client, gen = make_client("The Weekend Pass costs €39.00 [1].")
    d = client.post(
        "/v1/drafts",
        json={
            "subject": "Weekend trip",
            "messages": [
                {"role": "customer", "text": "I am visiting Berlin next weekend."},
                {"role": "agent", "text": "Thanks, do you need a bike for the whole weekend?"},
                {"role": "customer", "text": "Yes. What does the Weekend Pass cost?"},
            ],
            "customer": {"name": "Sam Miller", "plan": "Day Pass", "earlier_tickets": ["Bike key lost in March"]},
        },
    ).json()
    assert d["draft"].startswith("Hello Sam Miller,") and d["language"] == "en"
    assert "€39.00" in d["draft"] and d["citations"]
    prompt = gen.user_prompts[-1]
    assert "Earlier from this customer: Bike key lost in March" in prompt
    assert "Earlier in this ticket (agent): Thanks, do you need a bike for the whole weekend?" in prompt
    assert "Customer's message: Yes. What does the Weekend Pass cost?" in prompt


def test_draft_outcomes_are_recorded_once(make_client: Any) -> None:
    client, _ = make_client("Das Abo City kostet 34,90 € pro Monat [1].", "Das Abo City kostet 34,90 € pro Monat [1].")
    ticket = {"messages": [{"role": "customer", "text": "Was kostet das Abo City?"}]}
    first = client.post("/v1/drafts", json=ticket).json()["id"]
    second = client.post("/v1/drafts", json=ticket).json()["id"]
    missing = client.post(f"/v1/drafts/{first}/outcome", json={"outcome": "edited"})
    assert missing.status_code == 422  # an edited draft needs the text that was sent
    edited = client.post(f"/v1/drafts/{first}/outcome", json={"outcome": "edited", "final_text": "Gekürzt."}).json()
    assert edited == {"id": first, "outcome": "edited", "final_text": "Gekürzt."}
    assert client.post(f"/v1/drafts/{first}/outcome", json={"outcome": "sent"}).status_code == 409
    sent = client.post(f"/v1/drafts/{second}/outcome", json={"outcome": "sent"}).json()
    assert sent["final_text"].startswith("Guten Tag,")  # sent as is: the draft itself
    assert client.post("/v1/drafts/dft_nope/outcome", json={"outcome": "sent"}).status_code == 404


def test_bad_tickets_get_clear_errors(make_client: Any) -> None:
    client, _ = make_client()
    only_agent = {"messages": [{"role": "agent", "text": "Hallo?"}]}
    r = client.post("/v1/drafts", json=only_agent)
    assert r.status_code == 422 and "customer message" in r.json()["error"]["message"]
    unknown = client.post("/v1/drafts", json={"messages": [{"role": "customer", "text": "Hi"}], "customer_id": "c-x"})
    assert unknown.status_code == 404
