"""Variants: the articles for two customer segments, both retrieved, a question naming neither."""

from __future__ import annotations

import json
from typing import Any

from rag_service.variants import differs, is_variant, same_topic, segments

TITLES = [
    "Kündigung für Privatkunden",
    "Kündigung für Geschäftskunden",
    "Mobilfunk-Tarife von NordWind Mobil",
    "NordWind Business: Tarife für Geschäftskunden",
    "NordWind Prepaid",
    "Data protection at NordWind Mobil",
    "Familienrabatt",
    "Setting up an eSIM",
    "Contact us (English service line)",
    "Your bill explained",
]


def test_segments_are_read_from_title_words() -> None:
    assert segments("NordWind Business: Tarife für Geschäftskunden") == {"business"}
    assert segments("Kündigung für Privatkunden") == {"private"}
    assert segments("Mobilfunk-Tarife von NordWind Mobil") == frozenset()


def test_variants_share_a_topic_word_and_differ_in_segment() -> None:
    assert is_variant("Kündigung für Privatkunden", "Kündigung für Geschäftskunden", "Wie kündige ich?", TITLES)
    # one title names no segment: the general article beside the business one
    assert is_variant("Mobilfunk-Tarife von NordWind Mobil", TITLES[3], "Was kostet der S-Tarif?", TITLES)
    # the customer said which one they mean
    assert not is_variant(TITLES[0], TITLES[1], "Wie kündige ich als Geschäftskunde?", TITLES)
    assert not is_variant(TITLES[2], TITLES[3], "Was kostet der Privatkundentarif S?", TITLES)
    # the same segment, or only the company name in common, or nothing in common
    assert not is_variant(TITLES[1], TITLES[3], "Wie kündige ich?", TITLES)
    assert not is_variant("NordWind Prepaid", "Data protection at NordWind Mobil", "Wie lange?", TITLES)
    assert not is_variant("Kündigung für Privatkunden", "Familienrabatt", "Wie kündige ich?", TITLES)


def test_a_variant_passage_must_be_on_the_same_topic() -> None:
    assert same_topic("Kündigungsfrist", "Kündigungsfrist") and same_topic("", "")
    assert same_topic("Übersicht der Tarife", "Tarife für Geschäftskunden")
    assert not same_topic("Datenautomatik", "Tarife für Geschäftskunden")


def test_answers_differ_by_figures_or_by_words() -> None:
    assert differs("Die Frist beträgt einen Monat [1].", "Die Frist beträgt drei Monate [1].")
    assert not differs("Die Frist beträgt drei Monate [1].", "Es gilt eine Frist von 3 Monaten [2].")
    assert differs("Per E-Mail an kuendigung@example.com [1].", "Per E-Mail an business@example.com [1].")
    assert not differs("Die Preise sind inklusive Mehrwertsteuer [1].", "Preise inklusive Mehrwertsteuer [1].")
    assert differs("Die Preise sind inklusive Mehrwertsteuer [1].", "Alle Preise verstehen sich zuzüglich Steuer [1].")


BUSINESS = "Geschäftskunden kündigen mit einer Frist von drei Monaten zum Ende der Laufzeit [1]."
PRIVATE = "Privatkunden kündigen nach der Mindestlaufzeit mit einer Frist von einem Monat [1]."


def test_the_other_segments_answer_follows_labelled_and_cited(make_client: Any) -> None:
    client, gen = make_client(BUSINESS, PRIVATE, variant_answers=True)
    body = client.post("/v1/answer", json={"question": "Wie lang ist die Kündigungsfrist?"}).json()
    first, second = gen.calls
    assert "Kündigung für Privatkunden" in first[-1]["content"]  # both articles were retrieved
    variant_passages = second[-1]["content"].split("Question:")[0]
    assert "Kündigung für Privatkunden" in variant_passages and "Geschäftskunden —" not in variant_passages
    private = PRIVATE.replace(" [1]", " [2]")
    assert body["answer"] == f"{BUSINESS} Für „Kündigung für Privatkunden“ gilt dagegen: {private}"
    assert [c["doc_id"] for c in body["citations"]] == ["kuendigung-geschaeftskunden.md", "kuendigung-privatkunden.md"]
    assert [g["citations"] for g in body["grounding"]] == [[1], [2]]
    assert body["timings"]["variant_ms"] >= 0
    stream_client, _ = make_client(BUSINESS, PRIVATE, variant_answers=True)
    messages = [{"role": "user", "content": "Wie lang ist die Kündigungsfrist?"}]
    with stream_client.stream("POST", "/v1/chat/completions", json={"messages": messages, "stream": True}) as r:
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: {")]
    streamed = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e.get("choices"))
    assert streamed.endswith(body["answer"])


def test_no_variant_when_the_question_names_the_segment_or_the_answers_agree(make_client: Any) -> None:
    client, gen = make_client(BUSINESS, PRIVATE, variant_answers=True)
    body = client.post("/v1/answer", json={"question": "Wie lang ist die Kündigungsfrist für Geschäftskunden?"}).json()
    assert body["answer"] == BUSINESS and len(gen.calls) == 1
    same = "Auch hier gilt eine Frist von drei Monaten [1]."
    client, gen = make_client(BUSINESS, same, variant_answers=True)
    body = client.post("/v1/answer", json={"question": "Wie lang ist die Kündigungsfrist?"}).json()
    assert body["answer"] == BUSINESS and len(gen.calls) == 2  # asked, but it says nothing else


def test_an_unsupported_variant_answer_is_left_out(make_client: Any) -> None:
    client, gen = make_client(BUSINESS, "Privatkunden kündigen mit einer Frist von 14 Tagen [1].", variant_answers=True)
    body = client.post("/v1/answer", json={"question": "Wie lang ist die Kündigungsfrist?"}).json()
    assert len(gen.calls) == 2  # asked; "14 Tagen" is in no passage of the private article
    assert body["answer"] == BUSINESS and len(body["citations"]) == 1
    assert [g["status"] for g in body["grounding"]] == ["verified"]
