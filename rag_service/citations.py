"""Citation markers in generated text: parse ``[n]`` / ``[n, m]``, keep only numbers of passages
that exist, renumber them by first appearance so the customer reads [1], [2], ... and each
returned citation is a passage that is actually cited."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_GERMAN

from .lexical import tokenize

# a name-like token: inner capital (NordWind, iPhone), all caps (XL, LTE) or letters with digits (5G, S24)
NAME = re.compile(r"\b(?:[A-Za-z]+[a-z][A-Z]\w*|[A-Z]{2,}\d*|\d+[A-Za-z]+\w*|[A-Za-z]+\d+\w*)\b")
MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# an end is only certain once the next sentence has begun: markers may still follow the full stop
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*\s+|\n+)(?=[^\s\[])")


def marker_numbers(marker: re.Match[str]) -> list[int]:
    """The passage numbers of one ``MARKER`` match: "[2]" → [2], "[1, 3]" → [1, 3]."""
    return [int(n) for n in re.split(r"\s*[,;]\s*", marker.group(1))]


@dataclass
class Renumberer:
    """Maps the prompt's passage numbers (1..n_passages) to answer numbers in order of first use."""

    n_passages: int
    order: list[int] = field(default_factory=list)  # prompt numbers, in answer order

    def rewrite(self, sentence: str) -> tuple[str, list[int]]:
        """``sentence`` with its markers renumbered (unknown numbers removed) and the prompt numbers it cites."""
        cited: list[int] = []

        def repl(m: re.Match[str]) -> str:
            nums = marker_numbers(m)
            valid = [n for n in dict.fromkeys(nums) if 1 <= n <= self.n_passages]
            if not valid:
                return ""
            for n in valid:
                if n not in self.order:
                    self.order.append(n)
                cited.append(n)
            return " " + "".join(f"[{self.order.index(n) + 1}]" for n in valid)

        return MARKER.sub(repl, sentence), cited


_NOT_AN_END = re.compile(
    r"(?:\b\d{1,2}|\b(?:ca|bzw|usw|inkl|ggf|evtl|zzgl|Nr|Str|Mo|Di|Mi|Do|Fr|Sa|So|z\.B|d\.h|u\.a|e\.g|i\.e|vs|etc|approx|no))\.$",
    re.IGNORECASE,
)


# words that open a sentence but never follow an ordinal: "under 30. You are 27" ends after "30."
# ("am 5. Werktag", "zum 1. Januar" do not)
_OPENER = re.compile(
    r"(?:The|A|An|You|Your|It|Its|This|That|These|There|They|We|Our|If|Please|Then|However|Der|Die|Das|Den|Dem"
    r"|Ein|Eine|Einen|Sie|Ihr|Ihre|Es|Er|Wir|Unser|Unsere|Ich|Bitte|Dies|Diese|Dieser|Dann|Wenn|Falls|Danach)"
    r"(?=[\s,;:.!?])"
)


def split_sentences(buffer: str) -> tuple[list[str], str]:
    """Complete sentences in ``buffer`` and the unfinished rest. A sentence ends at . ! ? (with any
    citation markers right after it: "... 9,90 €. [1]") or at a line break, but not after an ordinal
    or abbreviation ("am 5. Werktag", "ca. 5 GB"), unless the next word opens a sentence ("under 30.
    You are 27": a number ends the sentence; an ordinal is followed by a noun)."""
    sentences = []
    start = 0
    for m in _SENTENCE_END.finditer(buffer):
        candidate = buffer[start : m.start()].rstrip()
        stop = None if "\n" in m.group(0) else _NOT_AN_END.search(candidate)
        if stop and not (stop.group(0)[0].isdigit() and _OPENER.match(buffer, m.end())):
            continue
        sentence = buffer[start : m.end()].strip()
        if sentence:
            sentences.append(sentence)
        start = m.end()
    return sentences, buffer[start:]


# ---------------------------------------------------------------- citation repair
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


_NUMBER_WORDS = {
    w: str(n)
    for n, words in enumerate(
        [
            (),
            ("ein", "eine", "einen", "einem", "einer", "eins", "one"),
            ("zwei", "two"),
            ("drei", "three"),
            ("vier", "four"),
            ("fünf", "five"),
            ("sechs", "six"),
            ("sieben", "seven"),
            ("acht", "eight"),
            ("neun", "nine"),
            ("zehn", "ten"),
            ("elf", "eleven"),
            ("zwölf", "twelve"),
        ]
    )
    for w in words
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def with_digits(text: str) -> str:
    """Number words as digits ("drei Monaten" → "3 Monaten"), so that an answer writing "3 months"
    over a German passage saying "drei Monaten" is recognised as stating the passage's number."""
    return _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1).lower()], text)


def numbers(text: str) -> set[str]:
    """Numbers in a comparable form: "9,90" = "9.90", "19,99 €" = "€19.99", "1.000" = "1,000"."""
    out = set()
    for raw in _NUMBER.findall(text):
        out.add(raw.replace(",", ".").rstrip(".").removesuffix(".00").removesuffix(".0"))
    return out


_UNIT_AFTER = re.compile(
    r"\s?(?:(?:ganze[nmrs]?|volle[nmrs]?|whole|full|entire)\s+)?"  # "ein ganzes Jahr"
    r"(?:%|€|EUR\b|Euros?\b|Cent\b|ct\b|[GMKT]B\b|(?:Werk)?[Tt]ag\w*|Woche\w*|Monat\w*|Jahr\w*|Stunde\w*|Minute\w*"
    r"|Stellen|Ziffern|SIM(?:-Karten|\s?cards?)?\b|Karten|(?:working |business )?days?\b|weeks?\b|months?\b"
    r"|years?\b|hours?\b|minutes?\b|digits\b|cards\b|cents?\b|Uhr\b|[ap]\.?m\b\.?)",
    re.IGNORECASE,
)


_EURO_BEFORE = re.compile(r"€\s*$")


def _unit_after(text: str, number: re.Match[str]) -> re.Match[str] | None:
    """The unit written right after ``number``, also after an ordinal's dot ("am 15. Werktag"); the
    minutes of a time of day are its unit ("17:00", "17:00 Uhr")."""
    clock = _CLOCK.match(text, number.end())
    if clock:
        return clock
    end = number.end() + (text[number.end() : number.end() + 1] == ".")
    return _UNIT_AFTER.match(text, end)


_CLOCK = re.compile(r":[0-5]\d(?!\d)(?:\s?(?:Uhr\b|[ap]\.?m\b\.?))?", re.IGNORECASE)


# "I'm 27", "Ich habe 8 SIM-Karten": what the customer says of themselves
_OWN = re.compile(r"\b(?:i'?m|i am|i have|i've|ich bin|ich habe|wir haben|we have)\s+(?:\w+\s+)?$", re.IGNORECASE)


# "only for people under 25", "ab 20": a bare number after a bound is a limit, not a name
_BOUND = re.compile(
    r"\b(?:under|below|over|above|up to|at least|at most|unter|über|ab|bis|mindestens|höchstens)\s+$", re.IGNORECASE
)


def figures(question: str) -> list[str]:
    """The figures a customer states, each with its unit as written ("29,99 €", "€25", "drei Monate").
    Without a unit only a number with decimals or dots ("costs 9.90", "192.168.1.1") or after a bound
    ("under 25") counts: a bare whole number is as often a name ("iPhone 17 Pro", "Home Box 5G") as a
    figure, and "einen Vertrag" is an article. What customers say of themselves ("I'm 27", "ich habe 8
    SIM-Karten") is not a figure they assume about the service."""
    found: dict[str, None] = {}
    covered = 0  # the end of the last range ("5 bis 7 Werktage" is one figure)
    spans = [(m, False) for m in _NUMBER.finditer(question)] + [(m, True) for m in _NUMBER_WORD.finditer(question)]
    for m, word in sorted(spans, key=lambda s: s[0].start()):
        if m.start() < covered:
            continue
        euro = _EURO_BEFORE.search(question[: m.start()])
        unit = _unit_after(question, m)
        upper = None if unit or word else _RANGE.match(question, m.end())
        if upper is not None and (upper_unit := _unit_after(question, upper)) is not None:
            found.setdefault(question[m.start() : upper_unit.end()], None)
            covered = upper_unit.end()
            continue
        glued = question[m.end() : m.end() + 1].isalpha() or question[max(m.start() - 1, 0) : m.start()].isalpha()
        bound = m.group(0).isdigit() and not (word or glued) and _BOUND.search(question[: m.start()])
        if not (unit or euro or bound) and (word or glued or m.group(0).isdigit()):
            continue  # an article ("einen Vertrag"), a name ("Home Box 5G", "iPhone 17") or an age
        if _OWN.search(question[: m.start()]):
            continue  # the customer's own circumstance, not a claim about the service
        start = euro.start() if euro else m.start()
        found.setdefault(question[start : unit.end() if unit else m.end()], None)
    return list(found)


PLACEHOLDER = "…"
# the upper end of a range after its lower one: "5 bis 7 Werktage", "2-3 days"
_RANGE = re.compile(r"\s*(?:bis|to|-|–)\s*(\d+(?:[.,]\d+)*)", re.IGNORECASE)


def vague(question: str, figures: Sequence[str]) -> str:
    """``question`` with each of ``figures`` replaced by "…" ("Warum kostet der Anschluss …?"): the
    question without the customer's figure, so the model fills in the passage's figure instead of
    repeating theirs. Measured on 23 false premises: 9 corrected, against 6 with a phrase of the
    figure's kind ("einen bestimmten Betrag", which the model copied into its answers)."""
    for figure in figures:
        question = re.sub(rf"(?<!\w){re.escape(figure)}(?!\w)", PLACEHOLDER, question)
    return question


def restates(text: str, figure: str) -> bool:
    """Whether ``text`` states the number of ``figure`` (in digits or as a number word); never for a
    figure without one (a premise in words, ``premise_clause``)."""
    wanted = numbers(with_digits(figure))
    return bool(wanted) and wanted <= numbers(with_digits(text))


# an assumption in words, before the question: "Since unused extra data carries over, …", "Da man
# … kündigen kann: …", "The eSIM switch is free, right?", "Stimmt es, dass …?"
_CLAUSE = (
    re.compile(r"^(?:since|as|da|weil)\s+(?P<claim>[^,:;–—?]+?)\s*[,:;–—]\s", re.IGNORECASE),
    re.compile(
        r"^(?P<claim>[^?]+?)[,;]?\s*(?:right|correct|isn't it|oder|richtig|stimmt's|stimmt das|nicht wahr|gell)\s*\?",
        re.IGNORECASE,
    ),
    re.compile(
        r"^(?:stimmt es|ist es richtig|ist es wahr|is it true|is it correct),?\s+(?:dass|that)\s+(?P<claim>[^?]+)\?",
        re.IGNORECASE,
    ),
)


def premise_clause(question: str) -> tuple[str, str] | None:
    """What the customer takes for granted in words, without a figure, and the question that is left
    ("unused extra data carries over to the next month", "is the 5 GB add-on worth it – what does it
    cost?"; nothing is left of "Stimmt es, dass …?"): a small model answers on top of the assumption.
    None without such a clause, and for one with a figure (``figures`` covers those) or of fewer than
    three words."""
    question = question.strip()
    for pattern in _CLAUSE:
        m = pattern.match(question)
        if m is None:
            continue
        claim = m.group("claim").strip()
        if figures(claim) or len(tokenize(claim)) < 2 or len(claim.split()) < 3:
            return None
        return claim, question[m.end() :].strip()
    return None


def counterparts(
    claim: str, passages: Sequence[str], foreign: Sequence[bool], translated: str | None = None, k: int = 2
) -> list[Correction]:
    """The passage sentences about what ``claim`` says, best first: those sharing the most words with
    it (at least two; with ``translated``, the claim in the other language, for a ``foreign``
    passage) ("Unused extra data expires at the end of the billing month." for "unused extra data
    carries over to the next month"). Whether one says the same or the opposite is for the judge."""
    words = set(tokenize(claim)) - _FILLER
    other_words = set(tokenize(translated)) - _FILLER if translated else set()
    found: list[tuple[tuple[int, bool, int], Correction]] = []
    for n, (passage, other) in enumerate(zip(passages, foreign, strict=True), 1):
        if other and not translated:
            continue
        for statement, quoted in _quotable(passage, heading=False):
            shared = len(_shared(" ".join(quoted), other_words if other else words))
            if shared >= 2 and "|" not in statement:
                found.append(((shared, not other, -n), Correction(n, _unbulleted(quoted), other, frozenset(), False)))
    found.sort(key=lambda f: f[0], reverse=True)
    return [c for _, c in found[:k]]


def unstated_numbers(
    question: str, passages: Sequence[str], foreign: Sequence[str] = (), translated: str | None = None
) -> list[str]:
    """Figures the customer states that no passage states about what they ask ("Warum kostet der
    Anschluss 29,99 €?" when the passages say 19,99 €). A small model repeats a wrong figure from the
    question as fact, so the pipeline asks with "…" in their place (``vague``) and names them in a note.

    In ``passages`` (the question's language) a figure counts as stated only by a sentence (a table
    row with its header) that gives the number with the figure's unit and shares a word with the
    question: "bis zu 3 Monate nach Vertragsende" (the number port) does not confirm "Warum ist die
    Kündigungsfrist drei Monate?", nor "20-stellige SIM-Kartennummer" "ab 20 Karten". Units are not
    what is asked about ("pro Monat"). ``foreign`` passages are read the same way against the
    question's ``translated`` words ("Eine Papierrechnung kostet 1,50 € pro Monat" does not confirm
    "Why does the itemised bill cost €1.50 per month?"); without a translation the number alone counts.
    Nowhere does a sentence about another variant of a product the question names confirm it ("NordWind
    S … 9,90 €" for "NordWind M costs 9.90")."""
    found = []
    own = [unit for p in passages for unit in _statements(p)]
    other = [unit for p in foreign for unit in _statements(p)]
    translated_words = _topic(translated) if translated is not None else set()
    named = _variants(question)

    def foreign_confirms(unit: str, figure: str) -> bool:
        if _other_variant(unit, named):
            return False
        return restates(unit, figure) if translated is None else _confirms(unit, figure, translated_words)

    for figure in figures(question):
        words = _topic(question, figure)
        if any(_confirms(unit, figure, words) and not _other_variant(unit, named) for unit in own):
            continue
        # what the customer's language says outweighs a translation's guess: "A detailed itemised
        # bill … is free of charge" against "Papierrechnung 1,50 €" for "the itemised bill costs €1.50"
        if free_statement(question, [figure], passages) is None and any(foreign_confirms(u, figure) for u in other):
            continue
        found.append(figure)
    return found


# "kostenlos", "free of charge", "keine Gebühr": a price of zero, in words
FREE = re.compile(
    r"\b(?:kostenlos\w*|kostenfrei\w*|gebührenfrei\w*|gratis|umsonst|keine\s+(?:Gebühr|Kosten)\w*"
    r"|(?<!feel )free(?!\s+to\b)|no\s+(?:charge|fee|cost)s?|at\s+no\s+(?:extra\s+)?cost)\b",
    re.IGNORECASE,
)
# a sentence that opens with one of these needs the one before it to say what it is about
_PRONOUN = re.compile(r"(?:It|This|They|These|Es|Er|Dies|Diese|Dieser|Dieses)\b")


def free_statement(question: str, figures: Sequence[str], passages: Sequence[str]) -> tuple[int, list[str]] | None:
    """The sentences of a passage saying that what the customer puts a price on is free ("Der
    Umzugsservice ist kostenlos." for "Der Umzugsservice kostet ja 49 € …"), and that passage's number
    (1-based): the correction a small model misses (it writes another price of the page, or the
    customer's). The sentence (with the one before it when it opens with a pronoun: "It is free of
    charge" after "A detailed itemised bill lists …") must share a word with the question; one that
    states the customer's figure ("Der Versand ist ab 50 € kostenlos, darunter kostet er 4,95 €")
    confirms it rather than correcting it. Names are no subject ("NordWind" of "NordWind M kostet 1 €"
    is also in "NordWind berechnet … keine Gebühr"). Table rows are not quoted. Only for ``figures``
    that are amounts of money."""
    money = [f for f in figures if _unit(f) == "money"]
    if not money:
        return None
    names = set(tokenize(" ".join(NAME.findall(question))))
    words = set().union(*(_topic(question, f) for f in money)) - names
    for n, passage in enumerate(passages, 1):
        for statement, quoted in _quotable(passage):
            if (
                FREE.search(statement)
                and "|" not in statement
                and not any(restates(statement, f) for f in money)
                and _shares(" ".join(quoted), words)
            ):
                return n, quoted
    return None


def _quotable(passage: str, heading: bool = True) -> Iterator[tuple[str, list[str]]]:
    """Each sentence of ``passage`` with what quoting it takes: the sentence before it too when it
    opens with a pronoun ("It is free of charge" after "A detailed itemised bill …"). Without the
    "title — section" line unless ``heading``."""
    previous = ""
    for statement in _statements(passage if heading else passage.split("\n", 1)[-1]):
        statement = statement.strip()
        yield statement, [previous, statement] if previous and _PRONOUN.match(statement) else [statement]
        previous = statement


def _unbulleted(quoted: list[str]) -> list[str]:
    """A list item quoted as a sentence, without its bullet."""
    return [re.sub(r"^[-*•]\s+", "", q) for q in quoted]


@dataclass(frozen=True)
class Correction:
    """A passage sentence giving the value a customer's figure gets wrong ("Eine Ersatzkarte kostet
    14,95 €." for "Warum kostet eine Ersatzkarte 24,95 €?"), to open the answer when the model's answer
    gives none of the values the candidate sentences give, or its first statement fails the guard."""

    passage: int  # 1-based, in the order the passages were given
    sentences: list[str]  # as in the passage (with the sentence before one opening with "It")
    foreign: bool  # the passage is in the other language: the sentences need translating
    values: frozenset[str]  # the values of the figure's kind that all candidate sentences give ("14,95 €")
    free: bool  # a candidate says it is free

    def stated_by(self, text: str) -> bool:
        """Whether ``text`` gives one of the candidates' values: the model corrected the figure itself
        (and may have chosen the right sentence where this one is the wrong one)."""
        return any(states(text, value) for value in self.values) or (self.free and bool(FREE.search(text)))


# a figure without a unit in a question about a price ("Since NordWind M costs 9.90 a month") is money
_PRICE_WORD = re.compile(
    r"\b(?:costs?|price|pay|charged?|kostet|kosten|preis|zahlen|bezahlen|berechnet)\b", re.IGNORECASE
)
_TIME_KINDS = frozenset({"day", "week", "month", "year", "hour", "minute"})


def _dimension(kind: str | None) -> str | None:
    """Units that measure the same thing: "4 weeks" is corrected by "3 months", "10 years" by "90 days"."""
    return "time" if kind in _TIME_KINDS else kind


def _figure_kind(question: str, figure: str) -> str | None:
    kind = _unit(figure)
    if kind is None and re.search(r"\d[.,]\d", figure) and _PRICE_WORD.search(question):
        return "money"
    return kind


def _values(statement: str, kind: str | None) -> list[str]:
    """The values ``statement`` gives in units of ``kind``'s dimension, each with its unit."""
    digits = with_digits(statement)
    out = []
    for m in _NUMBER.finditer(digits):
        unit = _unit_at(digits, m)
        if unit and _dimension(_unit(unit)) == _dimension(kind):
            out.append(m.group(0) + unit if unit.startswith(":") else f"{m.group(0)} {unit.strip()}")
    return out


def correction(
    question: str,
    figures: Sequence[str],
    passages: Sequence[str],
    foreign: Sequence[bool],
    translated: str | None = None,
) -> Correction | None:
    """The passage sentence that most likely corrects one of the customer's unconfirmed ``figures``:
    it gives a value of the same kind (a duration for a duration, a price or "free" for a price), not
    the customer's, about what the question is about: it shares the most words with the question
    (with its ``translated`` words for a ``foreign`` passage; a product variant both name counts
    as one). Function words ("my", "within", "schon") and names alone ("NordWind") are no subject,
    headings and table rows are not quoted, a sentence about another variant is no correction. Ties
    go to the passage in the customer's language, then to the earlier one. None when no sentence
    qualifies: the answer is then the model's alone."""
    names = set(tokenize(" ".join(NAME.findall(question))))
    named = _variants(question)
    best: tuple[tuple[int, bool, int], int, list[str], bool] | None = None
    values: set[str] = set()
    free = False
    for figure in figures:
        kind = _figure_kind(question, figure)
        if kind is None:
            continue
        own_words = _topic(question, figure) - names - _FILLER
        other_words = _topic(translated) - names - _FILLER if translated else set()
        for n, (passage, other) in enumerate(zip(passages, foreign, strict=True), 1):
            if other and not translated:
                continue
            for statement, quoted in _quotable(passage, heading=False):
                if "|" in statement or restates(statement, figure) or _other_variant(statement, named):
                    continue
                given = _values(statement, kind)
                says_free = kind == "money" and bool(FREE.search(statement))
                if not given and not says_free:
                    continue
                text = " ".join(quoted)
                said = _variants(text)
                variant = any(said.get(name, set()) & wanted for name, wanted in named.items())
                shared = len(_shared(text, other_words if other else own_words)) + variant
                if not shared:
                    continue
                values.update(given)
                free = free or says_free
                score = (shared, not other, -n)
                if best is None or score > best[0]:
                    best = (score, n, _unbulleted(quoted), other)
    if best is None:
        return None
    return Correction(best[1], best[2], best[3], frozenset(values), free)


# words that say nothing about what a question is about ("my", "within", "schon", "stimmt")
_FILLER = (
    frozenset(STOPWORDS_EN_PLUS)
    | frozenset(STOPWORDS_GERMAN)
    | frozenset(
        {
            *("within", "since", "right", "true", "without", "get", "need", "only", "still", "already"),
            *("ab", "beim", "schon", "erst", "innerhalb", "ja", "gibt", "stimmt", "bekommt", "nur", "noch"),
        }
    )
)


# words of any question about a figure: they say that a value is asked, not what it is the value of
_VALUE_WORDS = frozenset(
    {
        *("why", "how", "what", "does", "only", "much", "many", "long", "per", "price"),
        *("cost", "costs", "charge", "charged", "pay", "take", "takes", "last", "lasts"),
        *("warum", "wieso", "weshalb", "wie", "was", "nur", "viel", "viele", "lange", "pro", "preis"),
        *("kostet", "kosten", "koste", "zahlen", "bezahlen", "berechnet", "beträgt", "betragen", "dauert", "dauern"),
    }
)


def _topic(question: str, figure: str = "") -> set[str]:
    """The words of ``question`` that say what it is about: not numbers, units, ``figure`` or words
    like "kostet", which "Eine Papierrechnung kostet 1,50 €" shares with any question about a price."""
    words = tokenize(_NUMBER_WORD.sub(" ", question))
    topic = {w for w in words if not w[0].isdigit() and not _is_unit(w) and w not in _VALUE_WORDS}
    return topic - set(tokenize(figure))


# a product's name and its variant: "NordWind M", "Home Box 5G", "Galaxy S24"
_VARIANT = re.compile(r"\b([A-ZÄÖÜ][\w-]*[a-zäöüß])\s+([A-Z]{1,3}\d{0,3}|\d{1,3}[A-Za-z]{1,2})\b(?![.,]\d)")


def _variants(text: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for m in _VARIANT.finditer(text):
        if tokenize(m.group(1)):  # not "Die SIM", "Der PUK"
            found.setdefault(m.group(1).lower(), set()).add(m.group(2).lower())
    return found


def _other_variant(statement: str, named: dict[str, set[str]]) -> bool:
    """Whether ``statement`` is about another variant of a product the question names: "NordWind S:
    10 GB für 9,90 €" does not confirm "NordWind M kostet 9,90 €", it shares only the brand."""
    said = _variants(statement)
    return any(name in said and not said[name] & wanted for name, wanted in named.items())


def _is_unit(word: str) -> bool:
    """A unit is a whole word of a unit's kind ("Tagen", "Prozent"): "Vertrag" and "bestelltes" only
    contain one ("tag", "stell"), "SIM" is a thing."""
    kind = _unit(word)
    return kind is not None and (kind == "percent" or bool(_UNIT_AFTER.fullmatch(word)))


def _statements(passage: str) -> list[str]:
    """A passage's sentences; a table row comes with the table's header row, which names its columns."""
    out: list[str] = []
    header = None
    for line in passage.splitlines():
        if line.lstrip().startswith("|"):
            if header is None:
                header = line
            elif not re.fullmatch(r"[\s|:-]*", line):
                out.append(f"{header}\n{line}")
            continue
        header = None
        out += re.split(r"(?<=\D[.!?])\s+", line)  # not after "am 5." (an ordinal)
    return out


def states(text: str, figure: str) -> bool:
    """Whether ``text`` gives the number of ``figure`` with a unit of the figure's kind ("3 working
    days" for "3 Werktagen", not "3 Monate"); for a figure without a unit, the number alone."""
    if not restates(text, figure):
        return False
    unit = _unit(figure)
    if unit is None:
        return True
    digits = with_digits(text)
    wanted = numbers(with_digits(figure))
    return any(numbers(m.group(0)) & wanted and _unit(_unit_at(digits, m)) == unit for m in _NUMBER.finditer(digits))


def _confirms(statement: str, figure: str, words: set[str]) -> bool:
    return states(statement, figure) and _shares(statement, words)


def _shares(text: str, words: set[str]) -> bool:
    return bool(_shared(text, words))


def _shared(text: str, words: set[str]) -> set[str]:
    """The ``words`` that ``text`` has; German compounds count: "Frist" is the "Kündigungsfrist" of a passage."""
    said = tokenize(text)
    return {w for w in words if any(w == s or (len(w) >= 4 and len(s) >= 4 and (w in s or s in w)) for s in said)}


# the kind of a figure's unit, so that "3 Monate" and "three months" match and "20 Karten" ≠ "20-stellig"
_UNIT_KINDS = {
    "money": r"€|\beur\b|euro|\bcents?\b|\bct\b",
    "percent": r"%|prozent|percent",
    "data": r"\b[gmkt]b\b",
    "day": r"tag|day",
    "week": r"woche|week",
    "month": r"monat|month",
    "year": r"jahr|year",
    "hour": r"stunde|hour",
    "minute": r"minute",
    "digit": r"stell|ziffer|digit",
    "card": r"karte|card",
    "clock": r":\d\d|\buhr\b|\b[ap]\.?m\b",
}


def _unit(text: str) -> str | None:
    return next((kind for kind, pattern in _UNIT_KINDS.items() if re.search(pattern, text, re.IGNORECASE)), None)


def _unit_at(text: str, number: re.Match[str]) -> str:
    after = _unit_after(text, number)
    before = _EURO_BEFORE.search(text[: number.start()])
    return (after.group(0) if after else "") + ("€" if before else "")


def repair_citations(sentence: str, passages: list[str]) -> str:
    """Point a sentence's citation at the passage that actually states its numbers.

    Small models cite [1] out of habit. When the sentence states numbers that its cited passage does
    not contain but exactly one other passage contains all of them, the marker is moved there; the
    sentence text is never changed. Sentences without numbers keep their markers. When several
    passages state all its numbers, the one sharing most words with the sentence wins."""
    cited = [n for m in MARKER.finditer(sentence) for n in marker_numbers(m)]
    cited = [n for n in cited if 1 <= n <= len(passages)]
    stated = quantities(MARKER.sub("", sentence))
    if not cited or not stated:
        return sentence
    if all(stated <= quantities(passages[n - 1]) for n in cited):
        return sentence
    full = [i for i, p in enumerate(passages, 1) if stated <= quantities(p)]
    if not full:
        return sentence
    # several passages state them (a German page and its English twin): the one sharing most words
    words = set(tokenize(MARKER.sub("", sentence)))  # as the guard's ``attribute`` compares them
    best = max(full, key=lambda i: (len(words & set(tokenize(passages[i - 1]))), -i))
    return _replace_markers(sentence, best)


def _replace_markers(sentence: str, n: int) -> str:
    first = True

    def repl(m: re.Match[str]) -> str:
        nonlocal first
        if first:
            first = False
            return f" [{n}]"
        return ""

    return MARKER.sub(repl, sentence)


_N = r"(\d+(?:[.,]\d+)*)"
_MONEY = re.compile(rf"(?:€|\bEUR\b|\bEuro\b)\s*{_N}|{_N}\s*(?:€|\bEUR\b|\bEuros?\b)", re.IGNORECASE)
_PERCENT = re.compile(rf"{_N}\s*(?:%|\bProzent\b|\bpercent\b)", re.IGNORECASE)


def quantities(text: str) -> set[str]:
    """``numbers`` plus typed amounts: "€5" for 5 euros, "%10" for 10 percent. So "1 €" is not
    supported by a passage that only says "1 GB", while "9,90 €" = "€9.90" = "9.90 EUR"."""
    out = numbers(text)
    for m in _MONEY.finditer(text):
        out |= {"€" + n for n in numbers(m.group(1) or m.group(2))}
    for m in _PERCENT.finditer(text):
        out |= {"%" + n for n in numbers(m.group(1))}
    return out
