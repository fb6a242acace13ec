"""The check stage through the HTTP API: what the customer receives when the (fake) model invents
something, and what the response's ``grounding`` says about each sentence; and the exact checks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rag_service.answer.check import attribute, check_sentence, echoes, exact_problems
from rag_service.answer.citations import split_sentences

Q = {"question": "Wie viel kostet das Abo City im Monat?"}


def test_invented_number_is_removed_and_the_rest_stands(make_client: Any) -> None:
    client, _ = make_client("Das Abo City kostet 34,90 € pro Monat [1]. Die Aktivierung kostet 99 € [1].")
    body = client.post("/v1/answer", json=Q).json()
    assert body["action"] == "answer"
    assert body["answer"] == "Das Abo City kostet 34,90 € pro Monat [1]."
    removed = [g for g in body["grounding"] if g["status"] == "removed"]
    assert [g["text"] for g in removed] == ["Die Aktivierung kostet 99 €."]
    assert removed[0]["problems"] == ["number 99 not in the cited passage"]


def test_unsupported_direct_answer_becomes_refuse_or_handoff(make_client: Any) -> None:
    reply = "Das Abo City kostet 99 € pro Monat [1]. Es enthält 33 Akkuladungen [1]."
    client, _ = make_client(reply)
    body = client.post("/v1/answer", json=Q).json()
    assert (body["action"], body["reason"]) == ("refuse", "unsupported_answer")
    assert "99" not in body["answer"] and body["citations"] == []
    client, _ = make_client(reply, guard_failure_action="handoff")
    body = client.post("/v1/answer", json=Q).json()
    assert (body["action"], body["reason"]) == ("handoff", "low_confidence")


def test_supported_answer_passes_unchanged_with_one_model_call(make_client: Any) -> None:
    reply = "Das Abo City kostet 34,90 € pro Monat [1]."
    client, gen = make_client(reply)
    body = client.post("/v1/answer", json=Q).json()
    assert body["answer"] == reply and body["action"] == "answer"
    assert [(g["status"], g["citations"]) for g in body["grounding"]] == [("verified", [1])]
    assert gen.checks == [] and body["timings"]["model_calls"] == 1  # exact checks cost no model call


def test_the_judged_pass_reads_the_whole_answer_once(make_client: Any) -> None:
    reply = "Das Abo City kostet 34,90 € pro Monat [2]. Die Mindestlaufzeit beträgt 3 Monate [1]."
    client, gen = make_client(reply, reply, guard_judge=True)
    body = client.post("/v1/answer", json=Q).json()
    assert body["action"] == "answer" and len(gen.checks) == 1
    assert "Claim: Das Abo City kostet 34,90 € pro Monat. Die Mindestlaufzeit beträgt 3 Monate." in gen.checks[0]
    assert body["timings"]["check_calls"] == 1 and body["timings"]["model_calls"] == 2
    gen.support = lambda prompt: 0.05  # the judge says the passages do not support it: nothing is sent
    body = client.post("/v1/answer", json=Q).json()
    assert (body["action"], body["reason"]) == ("refuse", "unsupported_answer") and "34,90" not in body["answer"]


def test_guard_off_lets_the_model_text_through(make_client: Any) -> None:
    reply = "Das Abo City kostet 99 € pro Monat [1]."
    client, gen = make_client(reply, guard=False)
    body = client.post("/v1/answer", json=Q).json()
    assert body["answer"] == reply and body["grounding"] == [] and gen.checks == []


def test_streaming_sends_only_verified_sentences(make_client: Any) -> None:
    reply = "Das Abo City kostet 34,90 € pro Monat [1]. Die Aktivierung kostet 99 € [1]. Gern geschehen!"
    client, _ = make_client(reply, reply)
    messages = [{"role": "user", "content": Q["question"]}]
    with client.stream("POST", "/v1/chat/completions", json={"messages": messages, "stream": True}) as r:
        events = [json.loads(line[5:]) for line in r.iter_lines() if line.startswith("data:") and "[DONE]" not in line]
    pieces = [e["choices"][0]["delta"].get("content") or "" for e in events if e.get("choices")]
    streamed = "".join(pieces)
    assert "99" not in streamed and streamed.endswith("Das Abo City kostet 34,90 € pro Monat [1]. Gern geschehen!")
    last = events[-1]["rag"]
    assert [g["status"] for g in last["grounding"]] == ["verified", "removed", "no_claim"]
    whole = client.post("/v1/chat/completions", json={"messages": messages}).json()
    assert whole["choices"][0]["message"]["content"] == streamed


@pytest.mark.parametrize(
    ("sentence", "passage", "problem"),
    [
        ("Ruf uns an: 040 6639 4400.", "Telefon: 040 66394400", None),
        ("Ruf uns an: 040 6639 4411.", "Telefon: 040 66394400", "phone number"),
        ("Schreib an hilfe@nordwind.de.", "E-Mail: service@nordwind.de", "e-mail"),
        ("Infos unter www.nordwind.de/roaming.", "https://www.nordwind.de/roaming/", None),
        ("Infos unter https://nordwind.de/tarife.", "https://www.nordwind.de/roaming/", "URL"),
        ("Der Tarif NordWind XL kostet 9,90 €.", "NordWind M: 9.90 EUR", "name"),
        ("Der Tarif NordWind M kostet 9.90 EUR.", "NordWind M: 9,90 €", None),
        ("Das Datenvolumen beträgt 10 %.", "Rabatt: 10 € pro Karte", "number"),
        ("The notice period is 3 months.", "mit einer Frist von drei Monaten", None),  # number words count
        ("The notice period is 4 months.", "mit einer Frist von drei Monaten", "number"),
    ],
)
def test_exact_checks(sentence: str, passage: str, problem: str | None) -> None:
    found = exact_problems(sentence, [passage])
    assert (found == []) if problem is None else any(p.startswith(problem) for p in found), found


def test_a_number_ends_a_sentence_when_the_next_word_opens_one() -> None:
    """ "am 5. Werktag" is an ordinal; "under 30. You are 27" is two sentences: the first is the
    correction, the second may be wrong, and the guard judges each on its own."""
    text = "The discount is for people under 30. You are 27, so you do not qualify [1]. Es gilt ab dem 1. Januar. "
    assert split_sentences(text) == (
        ["The discount is for people under 30.", "You are 27, so you do not qualify [1]."],
        "Es gilt ab dem 1. Januar. ",  # the last sentence ends once the next one begins
    )
    ordinal = "Die Abbuchung erfolgt am 5. Werktag [1]."
    assert split_sentences(f"{ordinal} Sie ")[0] == [ordinal]
    assert split_sentences("Die Abbuchung erfolgt am 5. Die")[0] == []  # "Die" may still become "Dienstag"


def test_a_question_back_is_still_sent(make_client: Any) -> None:
    reply = "Do you mean the private or the business plan? Das Abo City kostet 34,90 € pro Monat [1]."
    client, _ = make_client(reply)
    body = client.post("/v1/answer", json=Q).json()
    assert body["answer"] == reply


def test_free_must_be_in_the_cited_passage() -> None:
    price = "Switching from a physical SIM card to an eSIM costs 4.99 EUR."
    assert exact_problems("The eSIM switch is free [1].", [price]) == ["says it is free; the cited passage does not"]
    assert exact_problems("Der Wechsel ist kostenlos [1].", [price]) == ["says it is free; the cited passage does not"]
    assert (
        exact_problems("A new customer's first eSIM is free [1].", [f"{price} A new customer's first eSIM is free."])
        == []
    )


def test_a_sentence_citing_the_wrong_passage_is_pointed_at_the_one_stating_it() -> None:
    passages = [
        "Tarife — Der einmalige Anschlusspreis beträgt 19,99 €.",
        "Stand: 1. Oktober 2026. Alle Preise inklusive Mehrwertsteuer.",
    ]
    check = check_sentence("Der einmalige Anschlusspreis beträgt 19,99 € [2].", passages, "Was kostet der Anschluss?")
    assert check.supported and check.cited == (1,) and check.text == "Der einmalige Anschlusspreis beträgt 19,99 € [1]."
    assert attribute("Er kostet 5 €.", passages) is None  # nowhere stated
    assert not check_sentence("Er kostet 5 € [2].", passages, "Was kostet er?").supported


def test_the_customers_words_said_back_are_removed() -> None:
    passages = ["Rücksendung — Paketware können Sie innerhalb von 60 Tagen kostenlos zurückschicken."]
    question = "Ich habe gestern ein Sofa bestellt. Jetzt gefällt mir der Stoff nicht mehr, kann ich es zurückgeben?"
    assert echoes("Ich habe gestern ein Sofa bestellt [1].", question, passages)
    assert echoes("Jetzt gefällt mir der Stoff nicht mehr, kann ich es zurückgeben? [1]", question, passages)
    assert not echoes("Sie können es innerhalb von 60 Tagen kostenlos zurückschicken [1].", question, passages)
    # a short answer takes most words from a short question, and one figure from the passage
    price = ["Ersatzkarte — Eine Ersatzkarte kostet 14,95 €."]
    assert not echoes("Die Ersatzkarte kostet 14,95 € [1].", "Was kostet die Ersatzkarte?", price)
    check = check_sentence("Ich habe gestern ein Sofa bestellt [1].", passages, question)
    assert not check.supported and check.problems == ("repeats the customer's question",)
