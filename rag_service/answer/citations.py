"""Citation markers in generated text: parse ``[n]`` / ``[n, m]``, keep only numbers of passages
that exist, renumber them by first appearance so the customer reads [1], [2], ... and each
returned citation is a passage that is actually cited."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..lexicon import entries

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


# a full stop after these is no sentence end ("ca. 5 GB", "am 5. Werktag"): lexicon ``abbreviations``
_NOT_AN_END = re.compile(rf"(?:\b\d{{1,2}}|\b(?:{'|'.join(entries('abbreviations'))}))\.$", re.IGNORECASE)


# words that open a sentence but never follow an ordinal: "under 30. You are 27" ends after "30."
# ("am 5. Werktag", "zum 1. Januar" do not); lexicon ``sentence_openers``
_OPENER = re.compile(rf"(?:{'|'.join(entries('sentence_openers'))})(?=[\s,;:.!?])")


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
    r"(?:%|€|£|\$|EUR\b|GBP\b|USD\b|CHF\b|Euros?\b|Cent\b|ct\b|[GMKT]B\b|(?:Werk)?[Tt]ag\w*|Woche\w*|Monat\w*|Jahr\w*|Stunde\w*|Minute\w*"
    r"|Stellen|Ziffern|SIM(?:-Karten|\s?cards?)?\b|Karten|(?:working |business )?days?\b|weeks?\b|months?\b"
    r"|years?\b|hours?\b|minutes?\b|digits\b|cards\b|cents?\b|Uhr\b|[ap]\.?m\b\.?)",
    re.IGNORECASE,
)


_CURRENCY_BEFORE = re.compile(r"(?:€|£|\$|\bEUR|\bGBP|\bUSD|\bCHF)\s*$")


def _unit_after(text: str, number: re.Match[str]) -> re.Match[str] | None:
    """The unit written right after ``number``, also after an ordinal's dot ("am 15. Werktag"); the
    minutes of a time of day are its unit ("17:00", "17:00 Uhr")."""
    clock = _CLOCK.match(text, number.end())
    if clock:
        return clock
    end = number.end() + (text[number.end() : number.end() + 1] == ".")
    return _UNIT_AFTER.match(text, end)


_CLOCK = re.compile(r":[0-5]\d(?!\d)(?:\s?(?:Uhr\b|[ap]\.?m\b\.?))?", re.IGNORECASE)


def restates(text: str, figure: str) -> bool:
    """Whether ``text`` states the number of ``figure`` (in digits or as a number word); never for a
    figure without one (a premise in words, ``premise_clause``)."""
    wanted = numbers(with_digits(figure))
    return bool(wanted) and wanted <= numbers(with_digits(text))


# "kostenlos", "free of charge", "keine Gebühr": a price of zero, in words
FREE = re.compile(
    r"\b(?:kostenlos\w*|kostenfrei\w*|gebührenfrei\w*|gratis|umsonst|keine\s+(?:Gebühr|Kosten)\w*"
    r"|(?<!feel )free(?!\s+to\b)|no\s+(?:charge|fee|cost)s?|at\s+no\s+(?:extra\s+)?cost)\b",
    re.IGNORECASE,
)


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


# the kind of a figure's unit, so that "3 Monate" and "three months" match and "20 Karten" ≠ "20-stellig"
_UNIT_KINDS = {
    "money": r"€|£|\$|\beur\b|\bgbp\b|\busd\b|\bchf\b|euro|\bcents?\b|\bct\b",
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
    before = _CURRENCY_BEFORE.search(text[: number.start()])
    return (after.group(0) if after else "") + (before.group(0) if before else "")


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
