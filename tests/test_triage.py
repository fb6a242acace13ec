"""Ticket triage through real HTTP on the real app, over the tests' help center (a bike-subscription
company) with a taxonomy written here as a company would: category and queue from the taxonomy,
priority from what the ticket says and the customer's recent contacts, sentiment, language, and the
articles an agent needs, internal ones included. Agents only. A broken taxonomy file is refused at
start-up with a message naming the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rag_service.desk.triage import Taxonomy
from rag_service.errors import ConfigError

TAXONOMY = """
urgent = ['\\bakku\\w*\\s+(raucht|brennt|qualmt)']

[[category]]
name = "billing"
queue = "finance"
priority = "normal"
description.de = "Rechnung, Zahlung, Lastschrift, Abbuchung, Preis"
description.en = "Invoice, payment, direct debit, charges, price"
examples = ["Warum wurde diesen Monat mehr abgebucht?"]

[[category]]
name = "damage"
queue = "workshop"
priority = "high"
description.de = "Panne, Reparatur, Schaden, Diebstahl des Rads"
description.en = "Breakdown, repair, damage, theft of the bike"
examples = ["My bike has a flat tyre.", "Mein Rad wurde gestohlen."]

[[category]]
name = "subscription"
queue = "contracts"
priority = "normal"
description.de = "Abo abschließen, wechseln, pausieren, kündigen"
description.en = "Starting, changing, pausing or cancelling a subscription"
examples = ["Ich möchte mein Abo kündigen.", "Can I pause my plan over the winter?"]

[[category]]
name = "other"
queue = "general"
priority = "low"
description = "General questions, praise and suggestions"
"""


@pytest.fixture
def triaging(kb_client: Any, tmp_path: Path) -> tuple[Any, dict[str, str]]:
    path = tmp_path / "taxonomy.toml"
    path.write_text(TAXONOMY, encoding="utf-8")
    client, _ = kb_client(auth="keys", triage_taxonomy=path)
    keys = client.app.state.components.keys
    made = {role: keys.create(role=role, name=role)[1] for role in ("agent", "admin", "qa")}
    made["customer"] = keys.create(role="customer", name="c", customer_id="c-1")[1]
    return client, made


def _triage(client: Any, key: str, **ticket: Any) -> Any:
    return client.post("/v1/triage", json=ticket, headers={"Authorization": f"Bearer {key}"})


def test_a_stolen_bike_goes_to_the_workshop_at_once_with_the_theft_articles(
    triaging: tuple[Any, dict[str, str]],
) -> None:
    client, keys = triaging
    r = _triage(
        client,
        keys["agent"],
        subject="Rad weg!!",
        body="Hallo, mein Velora-Rad wurde heute Nacht vor dem Haus gestohlen. Was muss ich jetzt tun?",
    )
    assert r.status_code == 200, r.text
    t = r.json()
    assert (t["category"], t["queue"], t["language"]) == ("damage", "workshop", "de")
    assert t["priority"] == "urgent" and t["priority_reasons"]
    assert t["sentiment"] == "negative"  # "!!"
    assert 0.5 < t["confidence"] <= 1 and next(iter(t["categories"])) == "damage"
    docs = [a["doc_id"] for a in t["articles"]]
    assert 1 <= len(docs) == len(set(docs)) <= 3  # distinct articles of the help center


def test_praise_is_low_and_positive_and_a_bill_question_normal(triaging: tuple[Any, dict[str, str]]) -> None:
    client, keys = triaging
    praise = _triage(
        client, keys["agent"], subject="Thanks", body="Thank you so much for the quick help with my bike yesterday!"
    ).json()
    assert (praise["sentiment"], praise["priority"], praise["language"]) == ("positive", "low", "en")
    bill = _triage(
        client, keys["admin"], subject="Rechnung", body="Welche Zahlungsarten kann ich für mein Abo nutzen?"
    ).json()
    assert (bill["category"], bill["queue"], bill["priority"], bill["sentiment"]) == (
        "billing",
        "finance",
        "normal",
        "neutral",
    )


def test_a_customer_who_wrote_twice_this_week_is_raised_to_high(triaging: tuple[Any, dict[str, str]]) -> None:
    client, keys = triaging
    ticket = {"subject": "Abo", "body": "Kann ich mein Abo im Winter pausieren?"}
    assert _triage(client, keys["agent"], **ticket, customer_id="c-1").json()["priority"] == "normal"
    conversations = client.app.state.components.conversations
    conversations.ensure("conv-a", "c-1")
    conversations.ensure("conv-b", "c-1")
    raised = _triage(client, keys["agent"], **ticket, customer_id="c-1").json()
    assert raised["priority"] == "high" and "2 earlier contacts" in raised["priority_reasons"]


def test_only_agents_triage_and_a_ticket_needs_words(triaging: tuple[Any, dict[str, str]]) -> None:
    client, keys = triaging
    ticket = {"subject": "x", "body": "Mein Rad hat einen Platten."}
    assert _triage(client, keys["customer"], **ticket).status_code == 403
    assert _triage(client, keys["qa"], **ticket).status_code == 403
    assert _triage(client, keys["agent"], subject="?", body="???").status_code == 422
    assert _triage(client, keys["agent"], subject="x").status_code == 422


def test_without_a_taxonomy_there_is_no_category_but_the_rest(kb_client: Any) -> None:
    client, _ = kb_client()
    t = client.post("/v1/triage", json={"subject": "", "body": "My bike was stolen last night."}).json()
    assert t["category"] is None and t["queue"] is None and t["confidence"] == 0
    assert t["priority"] == "urgent" and t["language"] == "en"
    assert t["articles"][0]["doc_id"] == "damage-and-theft.md"
    internal = client.post(
        "/v1/triage", json={"body": "Bis zu welchem Betrag dürfen wir die Selbstbeteiligung erlassen?"}
    )
    assert "kulanz-intern.md" in [a["doc_id"] for a in internal.json()["articles"]]  # agents see internal articles


def test_the_company_s_own_words_for_no_service_raise_the_priority(triaging: tuple[Any, dict[str, str]]) -> None:
    client, keys = triaging
    ticket = {"subject": "Akku", "body": "Der Akku raucht seit heute früh, was soll ich tun?"}
    t = _triage(client, keys["agent"], **ticket).json()
    assert t["priority"] == "urgent"  # from the taxonomy: the language data know nothing of batteries
    plain = client.app.state.components.triage
    plain.taxonomy = Taxonomy(plain.taxonomy.categories)
    assert _triage(client, keys["agent"], **ticket).json()["priority"] != "urgent"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[[category]]\nname = 'a'\n", "needs a name and a queue"),
        ("[[category]]\nname='a'\nqueue='q'\npriority='asap'\ndescription='x'\n", "priority must be one of"),
        ("[[category]]\nname='a'\nqueue='q'\ndescription='x'\n", "fewer than two categories"),
        ("[[category]]\nname='a'\nqueue='q'\n[[category]]\nname='b'\nqueue='q'\ndescription='y'\n", "description"),
        ("name = ", "not valid TOML"),
        (
            "urgent = ['(']\n[[category]]\nname='a'\nqueue='q'\ndescription='x'\n"
            "[[category]]\nname='b'\nqueue='q'\ndescription='y'\n",
            "not a regular expression",
        ),
    ],
)
def test_a_broken_taxonomy_is_refused_with_the_reason(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=says):
        Taxonomy.load(path)
