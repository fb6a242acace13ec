"""The hallucination guard through the HTTP API: what the customer receives when the (fake) model
invents something, and what the response's ``grounding`` says about each sentence."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rag_service.citations import (
    correction,
    counterparts,
    figures,
    free_statement,
    premise_clause,
    repair_citations,
    split_sentences,
    unstated_numbers,
    vague,
)
from rag_service.verify import Verifier, exact_problems, tagged_claim

Q = {"question": "Wie viel kostet der Tarif NordWind M im Monat?"}


def test_invented_number_is_removed_and_the_rest_stands(make_client: Any) -> None:
    client, _ = make_client("NordWind M kostet 19,90 € pro Monat [1]. Die Aktivierung kostet 99 € [1].")
    body = client.post("/v1/answer", json=Q).json()
    assert body["action"] == "answer"
    assert body["answer"] == "NordWind M kostet 19,90 € pro Monat [1]."
    removed = [g for g in body["grounding"] if g["status"] == "removed"]
    assert [g["text"] for g in removed] == ["Die Aktivierung kostet 99 €."]
    assert removed[0]["problems"] == ["number 99 not in the cited passage"]


def test_unsupported_direct_answer_becomes_refuse_or_handoff(make_client: Any) -> None:
    reply = "NordWind M kostet 99 € pro Monat [1]. Er enthält 20 GB [1]."
    client, _ = make_client(reply)
    body = client.post("/v1/answer", json=Q).json()
    assert (body["action"], body["reason"]) == ("refuse", "unsupported_answer")
    assert "99" not in body["answer"] and body["citations"] == []
    client, _ = make_client(reply, guard_failure_action="handoff")
    body = client.post("/v1/answer", json=Q).json()
    assert (body["action"], body["reason"]) == ("handoff", "low_confidence")


def test_supported_answer_passes_unchanged(make_client: Any) -> None:
    reply = "NordWind M kostet 19,90 € pro Monat [1]."
    client, gen = make_client(reply)
    body = client.post("/v1/answer", json=Q).json()
    assert body["answer"] == reply and body["action"] == "answer"
    assert [(g["status"], g["citations"], g["score"]) for g in body["grounding"]] == [("verified", [1], 1.0)]
    assert len(gen.checks) == 1 and "Claim: NordWind M kostet 19,90 € pro Monat." in gen.checks[0]
    assert "19,90 €" in gen.checks[0].split("Claim:")[0]  # the cited passage is what the claim is checked against


def test_judged_check_removes_a_number_free_invention_and_renumbers(make_client: Any) -> None:
    reply = (
        "NordWind M kostet 19,90 € pro Monat [2]. Senioren erhalten zusätzlich einen Rabatt [1]. "
        "Die Mindestlaufzeit beträgt 24 Monate [3]."
    )
    client, gen = make_client(reply)
    gen.support = lambda prompt: 0.05 if "Senioren" in prompt else 0.9
    body = client.post("/v1/answer", json=Q).json()
    assert "Senioren" not in body["answer"]
    # [2] -> [1]; the removed sentence's [1] is not used; [3] -> [2]
    assert body["answer"].startswith("NordWind M kostet 19,90 € pro Monat [1].")
    assert [c["n"] for c in body["citations"]] == list(range(1, len(body["citations"]) + 1))
    statuses = [(g["status"], g["score"]) for g in body["grounding"]]
    assert statuses[1] == ("removed", 0.05)
    assert body["grounding"][1]["problems"] == ["judged unsupported (P=0.05)"]


def test_a_sentence_citing_the_wrong_passage_is_judged_against_the_cited_one(make_client: Any) -> None:
    client, gen = make_client("Senioren erhalten 10 % Rabatt [1].")
    gen.support = lambda prompt: 0.9
    body = client.post("/v1/answer", json=Q).json()
    # no passage about NordWind M says 10 %: the exact check removes it before the judge is asked
    assert body["action"] == "refuse" and gen.checks == []


def test_guard_off_lets_the_model_text_through(make_client: Any) -> None:
    reply = "NordWind M kostet 99 € pro Monat [1]."
    client, gen = make_client(reply, guard=False)
    body = client.post("/v1/answer", json=Q).json()
    assert body["answer"] == reply and body["grounding"] == [] and gen.checks == []


def test_streaming_sends_only_verified_sentences(make_client: Any) -> None:
    reply = "NordWind M kostet 19,90 € pro Monat [1]. Die Aktivierung kostet 99 € [1]. Gern geschehen!"
    client, _ = make_client(reply, reply)
    messages = [{"role": "user", "content": Q["question"]}]
    with client.stream("POST", "/v1/chat/completions", json={"messages": messages, "stream": True}) as r:
        events = [json.loads(line[5:]) for line in r.iter_lines() if line.startswith("data:") and "[DONE]" not in line]
    pieces = [e["choices"][0]["delta"].get("content") or "" for e in events if e.get("choices")]
    streamed = "".join(pieces)
    assert "99" not in streamed and streamed.endswith("NordWind M kostet 19,90 € pro Monat [1]. Gern geschehen!")
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


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        ("NordWind M kostet 19,90 € im Monat, nicht 9,90 €.", None),  # corrects the customer's number
        ("No, NordWind M costs €19.90 a month, not €9.90.", None),
        ("NordWind M kostet 9,90 € im Monat.", "number"),  # repeats it as a fact
        ("NordWind M kostet nicht 19,90 €, sondern 7,90 €.", "number"),  # a new number is never allowed
    ],
)
def test_a_correction_may_repeat_the_questions_wrong_number(sentence: str, problem: str | None) -> None:
    question = "Warum kostet NordWind M 9,90 € im Monat?"
    found = exact_problems(sentence, ["NordWind M: 19,90 € pro Monat"], question)
    assert (found == []) if problem is None else any(p.startswith(problem) for p in found), found


def test_a_number_cited_from_the_wrong_passage_is_pointed_at_the_one_stating_it() -> None:
    passages = [
        "Tarife — Der einmalige Anschlusspreis beträgt 19,99 €.",
        "Plans — A one-time connection fee of €19.99 applies.",
        "Stand: 1. Oktober 2026. Alle Preise inklusive Mehrwertsteuer.",
    ]
    assert (
        repair_citations("Der Anschlusspreis beträgt 19,99 € [3].", passages)
        == "Der Anschlusspreis beträgt 19,99 € [1]."
    )
    assert repair_citations("The connection fee is €19.99 [3].", passages) == "The connection fee is €19.99 [2]."
    assert repair_citations("Er kostet 5 € [3].", passages) == "Er kostet 5 € [3]."  # nowhere stated: left to the guard


@pytest.mark.parametrize(
    ("question", "reply", "starts", "first"),
    [
        # the customer's premise repeated back: withheld
        (
            "The eSIM switch is free, right? How do I order it?",
            "The eSIM switch is free, right? Switching from a physical SIM card to an eSIM costs 4.99 EUR.",
            "Switching from a physical SIM card to an eSIM costs 4.99 EUR [1]",
            ("removed", ["repeats the customer's question"]),
        ),
        # the same tag question with the passage's number in place of theirs: the correction, sent as a statement
        (
            "The ICCID of my SIM card has 19 digits, right? Where do I find it?",
            "The ICCID of my SIM card has 20 digits, right? It is on the back of the card [1].",
            "The ICCID of my SIM card has 20 digits [1].",
            ("verified", []),
        ),
    ],
)
def test_the_customers_question_repeated_back(
    make_client: Any, question: str, reply: str, starts: str, first: tuple[str, list[str]]
) -> None:
    client, _ = make_client(reply)
    body = client.post("/v1/answer", json={"question": question}).json()
    assert body["action"] == "answer"
    assert body["answer"].startswith(starts)
    assert (body["grounding"][0]["status"], body["grounding"][0]["problems"]) == first


def test_a_sentence_stating_a_figure_the_answer_does_not_confirm_is_removed() -> None:
    """After "Our help articles do not confirm €1.50" and the itemised bill being free, the paper
    bill's "1,50 € per month" said of the itemised bill would contradict the answer."""
    paper = ["Eine Papierrechnung kostet 1,50 € pro Monat."]
    question = "Why does the itemised bill cost €1.50 per month?"
    verifier = Verifier(None, threshold=0.5)
    said = verifier.check("The itemised bill costs 1,50 € per month [1].", paper, question=question)
    assert said.supported  # the number is on the page: the exact check alone lets it through
    check = verifier.check(
        "The itemised bill costs 1,50 € per month [1].", paper, question=question, unconfirmed=["€1.50"]
    )
    assert not check.supported and check.problems == ("states €1.50, which the articles do not confirm",)
    denied = "The itemised bill does not cost 1,50 € per month [1]."
    assert verifier.check(denied, paper, question=question, unconfirmed=["€1.50"]).supported


def test_a_tag_question_is_checked_as_its_statement_unless_it_echoes_the_premise() -> None:
    question = "The ICCID has 19 digits, right?"
    assert tagged_claim("The ICCID has 20 digits, right? [2]", question) == "The ICCID has 20 digits [2]."
    assert tagged_claim("The ICCID has 19 digits, right?", question) is None  # the customer's premise
    assert tagged_claim("Does the ICCID have 20 digits?", question) is None  # not a claim with a tag
    assert tagged_claim("You want to cancel, right?", "Can I cancel?") is None  # a question back
    assert tagged_claim("The admin page is at 192.168.8.1, right? [1]", "Where is the admin page?") == (
        "The admin page is at 192.168.8.1 [1]."
    )
    assert tagged_claim("Die ICCID hat 20 Stellen, oder?", "Die ICCID hat 19 Stellen, oder?") == (
        "Die ICCID hat 20 Stellen."
    )
    router = ["Router — First start\nThe default administration page is http://192.168.8.1."]
    claim = "The Home Box 5G admin page is at http://192.168.8.1, right?"
    check = Verifier(None, threshold=0.5).check(claim, router, question="Is the Home Box 5G admin page at 192.168.1.1?")
    assert (
        check.supported and check.text == "The Home Box 5G admin page is at http://192.168.8.1 [1]."
    )  # 5G: their name
    contract = ["Die Laufzeit ist 12 Monate."]
    problems = exact_problems("Das Galaxy S24 hat 24 Monate Laufzeit [1].", contract, "Wie lange läuft das Galaxy S24?")
    assert problems == ["number 24 not in the cited passage"]  # only the name's own digits are the customer's
    passages = ["SIM activation — Enter the 20-digit SIM card number (ICCID) from the back of the card."]
    check = Verifier(None, threshold=0.5).check("The ICCID has 20 digits, right? [1]", passages, question=question)
    assert check.supported and check.text == "The ICCID has 20 digits [1]."
    check = Verifier(None, threshold=0.5).check("The ICCID has 21 digits, right? [1]", passages, question=question)
    assert not check.supported  # the new number is checked like any other


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
    reply = "Do you mean the private or the business contract? NordWind M kostet 19,90 € pro Monat [1]."
    client, _ = make_client(reply)
    body = client.post("/v1/answer", json=Q).json()
    assert body["answer"] == reply


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Warum kostet der Anschluss 29,99 €?", ["29,99 €"]),
        ("Why does top-up add €25 when my balance drops below €5?", ["€25", "€5"]),
        ("Warum ist die Kündigungsfrist drei Monate, wenn ich einen Vertrag habe?", ["drei Monate"]),
        ("Is the Home Box 5G admin page at 192.168.1.1?", ["192.168.1.1"]),  # "5G" is a name
        ("Why only under 25 years? I'm 27 years old.", ["25 years"]),  # 27 is the customer's age
        ("What is the price of the iPhone 17 Pro?", []),  # a bare whole number: a name as often as not
        ("Since NordWind M costs 9.90 a month, what is it for a year?", ["9.90"]),
        ("Warum bucht ihr erst am 15. Werktag ab?", ["15. Werktag"]),
        ("Why does top-up add € 25?", ["€ 25"]),
        ("Ich habe 8 SIM-Karten: warum erst ab 20 Karten?", ["20 Karten"]),
        ("Why only for people under 25? I'm 27.", ["25"]),  # a limit, though it has no unit
        ("Does the iPhone 17 work with a plan over 5 GB?", ["5 GB"]),
        ("Warum speichert ihr meine Chats ein ganzes Jahr lang?", ["ein ganzes Jahr"]),
    ],
)
def test_figures_a_customer_assumes(question: str, expected: list[str]) -> None:
    assert figures(question) == expected


def test_unstated_figures_are_those_no_passage_states_in_digits_or_words() -> None:
    passages = ["Die Kündigungsfrist beträgt einen Monat.", "Der Anschlusspreis beträgt 19,99 €."]
    assert unstated_numbers("Warum kostet der Anschluss 29,99 € und nicht 19,99 €?", passages) == ["29,99 €"]
    assert unstated_numbers("Ist die Frist 1 Monat?", passages) == []


def test_a_figure_stated_about_something_else_is_not_confirmed() -> None:
    """The number port's "3 Monate" does not confirm a notice period of three months; the ICCID's
    "20-stellig" does not confirm "20 Karten"."""
    port = "Kündigung — Rufnummer behalten\nIhre Rufnummer können Sie bis zu 3 Monate nach Vertragsende mitnehmen."
    assert unstated_numbers("Warum ist die Kündigungsfrist drei Monate?", [port]) == ["drei Monate"]
    assert unstated_numbers("Wie lange kann ich meine Rufnummer mitnehmen, 3 Monate?", [port]) == []
    iccid = "Geben Sie die 20-stellige SIM-Kartennummer ein."
    assert unstated_numbers("Warum erst ab 20 Karten?", [iccid]) == ["20 Karten"]
    billing = "Die Rechnung wird am 5. Werktag des Monats abgebucht. Der Rabatt beträgt 10 Prozent."
    assert unstated_numbers("Wird die Rechnung am 5. Werktag abgebucht?", [billing]) == []
    assert unstated_numbers("Ist der Rabatt 10 Prozent?", [billing]) == []
    assert unstated_numbers("Ist der Rabatt 10 Cent?", [billing]) == ["10 Cent"]


def test_another_variant_of_the_named_product_does_not_confirm_a_figure() -> None:
    plans = "Tarife\n- NordWind S: 10 GB für 9,90 € pro Monat\n- NordWind M: 30 GB für 19,90 € pro Monat"
    english = "Plans\n- NordWind S: 10 GB for €9.90 per month"
    assert unstated_numbers("Since NordWind M costs 9.90 a month, what is a year?", [english], [plans]) == ["9.90"]
    assert unstated_numbers("Kostet NordWind S 9,90 € im Monat?", [plans]) == []
    assert unstated_numbers("Kostet NordWind M 19,90 € im Monat?", [plans]) == []
    assert unstated_numbers("Kostet die SIM 9,90 € bei NordWind?", [plans]) == []  # no variant named


def test_a_table_row_is_read_with_its_header_and_other_languages_by_number() -> None:
    table = (
        "Geräteschutz — Preise\n| Gerätepreis | Gebühr | Selbstbeteiligung |\n"
        "|---|---|---|\n| bis 500 € | 4,99 € | 49 € |"
    )
    question = "Wie hoch ist die Selbstbeteiligung für ein Handy unter 500 Euro?"
    assert unstated_numbers(question, [table]) == []
    english = "Device protection — Prices\n| Device price | Excess |\n|---|---|\n| up to €500 | €49 |"
    assert unstated_numbers(question, [], [english]) == []
    assert unstated_numbers(question, [english]) == ["500 Euro"]  # read as German: no shared word


def test_a_passage_in_the_other_language_confirms_a_figure_only_about_the_translated_subject() -> None:
    """The paper bill's price does not confirm a price of the itemised bill, once the question's
    translation says what is asked; without a translation the number alone counts."""
    paper = "Umzug — Rechnungen\nEine Papierrechnung kostet 1,50 € pro Monat."
    question = "Why does the itemised bill cost €1.50 per month?"
    translated = "Warum kostet der Einzelverbindungsnachweis 1,50 € pro Monat?"
    assert unstated_numbers(question, [], [paper], translated) == ["€1.50"]
    assert unstated_numbers(question, [], [paper]) == []
    asked = "Why does the paper bill cost €1.50 per month?"
    assert unstated_numbers(asked, [], [paper], "Warum kostet die Papierrechnung 1,50 € pro Monat?") == []


def test_times_of_day_and_ranges_are_figures() -> None:
    assert figures("Why does the English service line close at 17:00 on weekdays?") == ["17:00"]
    assert figures("Ist der Shop bis 20 Uhr offen?") == ["20 Uhr"]
    assert figures("Warum dauert die Lieferung 5 bis 7 Werktage?") == ["5 bis 7 Werktage"]
    # a speed names the product as often as it claims something ("euer Anschluss mit 1 Gbit/s")
    assert figures("Wie schnell ist euer Glasfaser-Anschluss mit 1 Gbit/s?") == []
    assert (
        vague("Warum dauert die Lieferung 5 bis 7 Werktage?", ["5 bis 7 Werktage"]) == "Warum dauert die Lieferung …?"
    )
    hours = "Contact — Phone\nThe English service line is open Monday to Friday from 9:00 to 18:00."
    assert unstated_numbers("Why does the English service line close at 17:00?", [hours]) == ["17:00"]
    assert unstated_numbers("Why does the English service line close at 18:00?", [hours]) == []
    assert unstated_numbers("Warum dauert die Lieferung 5 bis 7 Werktage?", ["Die Lieferung dauert 2 bis 3 Werktage."])


def test_the_passage_sentence_that_corrects_a_figure() -> None:
    """The sentence giving a value of the figure's kind about what the question is about: the one
    sharing most words with it, in another unit of the same dimension, in the other language when
    only the translation shares words; never a heading, another variant, or the customer's figure."""
    sim = (
        "SIM-Karte aktivieren — PIN und PUK\nDie PIN steht auf dem Kartenhalter. Nach zehn falschen "
        "PUK-Eingaben ist die SIM-Karte gesperrt; eine Ersatzkarte kostet 14,95 €."
    )
    shipping = "Versand — Lieferzeit\nDer Versand ist ab 50 € kostenlos, darunter kostet er 4,95 €."
    question = "Warum kostet eine Ersatzkarte 24,95 €?"
    found = correction(question, ["24,95 €"], [shipping, sim], [False, False])
    assert found is not None and (found.passage, found.foreign) == (2, False)
    assert found.sentences == [
        "Nach zehn falschen PUK-Eingaben ist die SIM-Karte gesperrt; eine Ersatzkarte kostet 14,95 €."
    ]
    assert found.stated_by("Eine Ersatzkarte kostet 14,95 € [1].") and not found.stated_by("Die Karte ist gesperrt.")
    assert figures("Why does NordWind Business include a personal contact only from 10 SIM cards?") == ["10 SIM cards"]
    business = "Business — Leistungen\n- Persönlicher Ansprechpartner ab 5 SIM-Karten"
    found = correction(
        "Warum erst ab 20 Karten einen persönlichen Ansprechpartner?", ["20 Karten"], [business], [False]
    )
    assert found is not None and found.stated_by("Ab 5 SIM-Karten gibt es einen Ansprechpartner.")
    # "10 years" is corrected by "90 days"; a heading is no sentence
    data = "Data protection — Storage\n- Customer account data is deleted 90 days after your contract ends."
    found = correction("Why do you keep my customer account data for 10 years?", ["10 years"], [data], [False])
    assert found is not None and found.sentences == [
        "Customer account data is deleted 90 days after your contract ends."
    ]
    # a passage in the other language shares words only with the translation
    claim = "Device protection — Making a claim\nReport damage in the app within 14 days. Repairs take 5 days."
    question = "Warum muss ich einen Schaden beim Geräteschutz schon innerhalb von 3 Tagen melden?"
    translated = "Why must I report damage to my device within 3 days?"
    assert correction(question, ["3 Tagen"], [claim], [True]) is None  # no translation: no shared words
    found = correction(question, ["3 Tagen"], [claim], [True], translated)
    assert found is not None and found.foreign and found.sentences == ["Report damage in the app within 14 days."]
    # another variant's price corrects nothing; the same variant's does, even without other words
    plans = "Plans — Prices\n- NordWind S: 10 GB for €9.90 per month\n- NordWind M: 30 GB for €19.90 per month"
    found = correction("Since NordWind M costs 9.90 a month, how much is it for a year?", ["9.90"], [plans], [False])
    assert found is not None and found.sentences == ["NordWind M: 30 GB for €19.90 per month"]
    # the sentence stating the customer's figure confirms it; nothing about the subject: no correction
    assert correction("Warum kostet der Versand 4,95 €?", ["4,95 €"], [shipping], [False]) is None
    assert correction("Warum kostet das Roaming 3 €?", ["3 €"], [sim], [False]) is None


def test_an_assumption_in_words_and_the_sentences_about_it() -> None:
    assert premise_clause("The eSIM switch is free, right? How do I order it?") == (
        "The eSIM switch is free",
        "How do I order it?",
    )
    assert premise_clause("Since unused extra data carries over, is the add-on worth it?") == (
        "unused extra data carries over",
        "is the add-on worth it?",
    )
    assert premise_clause("Da man auch telefonisch kündigen kann: Welche Nummer?") == (
        "man auch telefonisch kündigen kann",
        "Welche Nummer?",
    )
    assert premise_clause("Stimmt es, dass die Rücksendung kostenlos ist?") == ("die Rücksendung kostenlos ist", "")
    assert premise_clause("Since NordWind M costs 9.90 a month, how much is it?") is None  # a figure: compared
    assert premise_clause("Wie kann ich kündigen?") is None
    assert premise_clause("Cancel, right?") is None  # too short to be a claim
    esim = (
        "eSIM — How to get an eSIM\nOrder an eSIM in the app. Switching from a physical SIM card to an eSIM costs "
        "4.99 EUR. A new customer's first eSIM is free."
    )
    found = counterparts("The eSIM switch is free", [esim], [False])
    assert [c.sentences for c in found] == [
        ["Switching from a physical SIM card to an eSIM costs 4.99 EUR."],  # esim, switch(ing)
        ["A new customer's first eSIM is free."],  # esim, free
    ]
    assert counterparts("Die eSIM ist kostenlos", [esim], [True]) == []  # no translation: no words to share
    found = counterparts("Die eSIM ist kostenlos", [esim], [True], "The eSIM is free")
    assert found[0].foreign and found[0].sentences == ["A new customer's first eSIM is free."]


def test_the_passage_sentence_saying_that_the_priced_thing_is_free() -> None:
    move = "Umzug — Heim-Internet\nFür NordWind Home 5G prüfen wir die Verfügbarkeit. Der Umzugsservice ist kostenlos."
    shipping = "Versand\nDer Versand ist ab 50 € kostenlos, darunter kostet er 4,95 €. Die Rücksendung ist kostenlos."
    bill = "Your bill — Itemised bill\nA detailed itemised bill lists every call. It is free of charge."
    assert free_statement("Der Umzugsservice kostet ja 49 €?", ["49 €"], [shipping, move]) == (
        2,
        ["Der Umzugsservice ist kostenlos."],
    )
    assert free_statement("Why does the itemised bill cost €1.50?", ["€1.50"], [bill]) == (
        1,
        ["A detailed itemised bill lists every call.", "It is free of charge."],  # what "It" is
    )
    assert free_statement("Warum kostet der Versand 4,95 €?", ["4,95 €"], [shipping]) is None  # it confirms
    assert free_statement("Warum dauert der Umzugsservice 3 Wochen?", ["3 Wochen"], [move]) is None  # no price
    # a name is no subject: "NordWind" is in both
    assert free_statement("Sag, dass NordWind M nur 1 € kostet.", ["1 €"], [move]) is None
    # a passage in the customer's language saying it is free outweighs the other language's number
    paper = "Umzug — Rechnungen\nEine Papierrechnung kostet 1,50 € pro Monat."
    question = "Why does the itemised bill cost €1.50 per month?"
    assert unstated_numbers(question, [bill], [paper]) == ["€1.50"]
    assert unstated_numbers(question, [], [paper]) == []


def test_a_unit_is_a_whole_word_so_an_order_is_a_subject() -> None:
    """ "Bestellung" contains "stell" (of "20-stellig") and "Feiertag" "tag": they say what is asked
    about, not a unit."""
    passage = "Für jede Bestellung berechnen wir 5 € Versand. Am Feiertag kostet ein Anruf 1 €."
    assert unstated_numbers("Kostet die Bestellung 5 €?", [passage]) == []
    assert unstated_numbers("Warum kostet es am Feiertag 1 €?", [passage]) == []
    assert unstated_numbers("Warum kostet die Bestellung 7 €?", [passage]) == ["7 €"]


def test_a_figure_is_replaced_by_an_ellipsis() -> None:
    question = "Kostet es 9,90 € oder €5 für 10 GB?"
    assert vague(question, figures(question)) == "Kostet es … oder … für …?"
    assert vague("Why only under 25? I use 250 GB.", ["25"]) == "Why only under …? I use 250 GB."  # whole numbers


def test_free_must_be_in_the_cited_passage() -> None:
    price = "Switching from a physical SIM card to an eSIM costs 4.99 EUR."
    assert exact_problems("The eSIM switch is free [1].", [price]) == ["says it is free; the cited passage does not"]
    assert exact_problems("Der Wechsel ist kostenlos [1].", [price]) == ["says it is free; the cited passage does not"]
    assert (
        exact_problems("A new customer's first eSIM is free [1].", [f"{price} A new customer's first eSIM is free."])
        == []
    )


def test_a_sentence_repeating_the_placeholder_of_a_figure_is_removed() -> None:
    passage = "Ein Einzelverbindungsnachweis ist kostenlos."
    copied = "Der Einzelverbindungsnachweis kostet …, weil er kostenlos ist [1]."
    assert exact_problems(copied, [passage]) == ["repeats the placeholder of the customer's figure"]
    assert exact_problems("Er ist kostenlos [1].", [passage]) == []
