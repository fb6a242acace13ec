"""Personal data in customer messages, found and replaced before anything is stored or sent on.

Presidio's analyzer does the finding, without a language model (no spaCy model installs
from a package registry): its own recognizers for e-mail addresses, IBANs (checksum), payment cards
(Luhn) and phone numbers (``phonenumbers``, validated per region), plus pattern recognizers whose
patterns are language knowledge in ``rag_service/lexicon/<lang>.toml`` (``[pii]``): what introduces
a customer or contract number, a name or a birth date, and how addresses are written. Customers mix
languages, so every language's patterns apply to every message.

    >>> Redactor().redact("Ich bin Jana Weber, Tel. 0171 2345678")
    'Ich bin <NAME>, Tel. <PHONE>'
"""

from __future__ import annotations

import re
import threading
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from .lexicon import DIRECTORY

ENTITIES = ("EMAIL", "PHONE", "IBAN", "CARD", "CUSTOMER_NUMBER", "ADDRESS", "NAME", "DATE_OF_BIRTH")
_PRESIDIO = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "IBAN_CODE": "IBAN", "CREDIT_CARD": "CARD"}
_LANGUAGE = "any"  # one recognizer set for every message: customers mix languages
_REGIONS = ("DE", "AT", "CH", "GB", "US", "FR", "NL", "IT", "ES", "PL", "IE", "BE", "LU", "DK")

# the value after a context: a token with at least one digit, e.g. 4711-0815, WW-2025-118734, A123456789
_NUMBER = r"(?=[A-Za-z0-9/\- ]*\d)[A-Za-z0-9](?:[A-Za-z0-9/\-]|\s(?=\d))+[A-Za-z0-9]"
_LOWER = "a-zäöüßéèáàóòúùçñśłćńźżąęô'"
_NAME_WORD = rf"(?!(?:Dr|Prof|Med|Herr|Frau|Mr|Mrs|Ms)\b)[A-ZÄÖÜÉ][{_LOWER}]+(?:-[A-ZÄÖÜ][{_LOWER}]+)?"
_PARTICLES = r"(?:(?:von|van|de|der|zu|du|del|la|le|da|di)\s+){0,2}"
_NAME = rf"(?:[A-Z]\.\s?)?{_NAME_WORD}(?:\s+{_PARTICLES}{_NAME_WORD}){{0,3}}"
_FULL_NAME = rf"{_NAME_WORD}(?:\s+{_PARTICLES}{_NAME_WORD}){{1,3}}"
# a message's last line that is only a name: its signature
_SIGNATURE = rf"(?<=\n)\s*{_FULL_NAME}\s*$"
# what a phone number looks like when no context names it: an international or trunk prefix, or the
# North American 3-3-4 grouping; a bare "2025" or "44135" is a year or a postcode
_PHONE_SHAPE = re.compile(r"^(?:\+|00|0|\(0)|^\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}")
_DATE = (
    r"\d{1,2}\.\s?\d{1,2}\.\s?(?:19|20)?\d{2}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/(?:19|20)?\d{2}"
    r"|\d{1,2}\.?\s+[A-ZÄÖÜ][a-zäöü]+\.?\s+(?:19|20)\d{2}|[A-Z][a-z]+\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{2}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?[A-Z][a-z]+\.?\s+(?:19|20)\d{2}"
)


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


@dataclass(frozen=True)
class Found:
    type: str  # one of ENTITIES
    start: int
    end: int
    text: str


@cache
def _language_data() -> list[dict[str, Any]]:
    return [tomllib.loads(p.read_text(encoding="utf-8")).get("pii", {}) for p in sorted(DIRECTORY.glob("*.toml"))]


def _alternatives(key: str) -> list[str]:
    out: list[str] = []
    for data in _language_data():
        value = data.get(key, [])
        out += [value] if isinstance(value, str) else list(value)
    return out


@cache
def redactor() -> Redactor:
    """The process's one redactor (building it compiles every pattern)."""
    return Redactor()


class Redactor:
    """Thread-safe after construction (Presidio's engines hold no per-call state we share)."""

    def __init__(self) -> None:
        import tldextract

        # Presidio's e-mail check asks tldextract for the domain's suffix; its default fetches the
        # public-suffix list from the internet on first use. The snapshot it ships is enough.
        tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
        from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            IbanRecognizer,
            PhoneRecognizer,
        )

        def patterns(entity: str, regexes: list[str], *, flags: int) -> Any:
            return PatternRecognizer(
                supported_entity=entity,
                name=f"{entity.lower()}_patterns",
                supported_language=_LANGUAGE,
                patterns=[Pattern(f"{entity.lower()}_{i}", r, 0.85) for i, r in enumerate(regexes)],
                global_regex_flags=flags,
            )

        registry = RecognizerRegistry(supported_languages=[_LANGUAGE])
        registry.add_recognizer(EmailRecognizer(supported_language=_LANGUAGE))
        registry.add_recognizer(IbanRecognizer(supported_language=_LANGUAGE))
        registry.add_recognizer(CreditCardRecognizer(supported_language=_LANGUAGE))
        registry.add_recognizer(PhoneRecognizer(supported_language=_LANGUAGE, supported_regions=_REGIONS))
        customer = [rf"(?<={before}){_NUMBER}" for before in _alternatives("customer_number_before")]
        names = [rf"(?<={before}){_NAME}\b" for before in _alternatives("name_before")]
        names += [rf"(?<={before}){_FULL_NAME}\b" for before in _alternatives("full_name_before")]
        names.append(_SIGNATURE)
        births = [rf"(?<={before})(?:{_DATE})" for before in _alternatives("birth_before")]
        registry.add_recognizer(patterns("CUSTOMER_NUMBER", customer, flags=re.MULTILINE))
        registry.add_recognizer(patterns("NAME", names, flags=re.MULTILINE))
        registry.add_recognizer(patterns("DATE_OF_BIRTH", births, flags=re.MULTILINE | re.IGNORECASE))
        registry.add_recognizer(patterns("ADDRESS", _alternatives("address"), flags=re.MULTILINE))
        engine = NoOpNlpEngine(models=[{"lang_code": _LANGUAGE, "model_name": "none"}])
        self._analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=[_LANGUAGE])
        self._lock = threading.Lock()  # the phonenumbers matcher is not documented as thread-safe

    def find(self, text: str) -> list[Found]:
        """Every piece of personal data in ``text``, first to last; overlaps resolved to the longer."""
        if not text.strip():
            return []
        with self._lock:
            results = self._analyzer.analyze(text=text, language=_LANGUAGE, score_threshold=0.3)
        spans = sorted(  # at one start the longest first; a phone number loses a tie (it is the vaguest)
            ((_PRESIDIO.get(r.entity_type, r.entity_type), r.start, r.end) for r in results),
            key=lambda s: (s[1], -(s[2] - s[1]), s[0] == "PHONE"),
        )
        out: list[Found] = []
        for kind, start, end in spans:
            if kind not in ENTITIES:
                continue
            if kind == "PHONE" and not (_PHONE_SHAPE.match(text[start:end]) and _digits(text[start:end]) >= 7):
                continue
            if out and start < out[-1].end:  # overlaps the one before: keep the longer
                if end - start <= out[-1].end - out[-1].start:
                    continue
                out.pop()
            out.append(Found(kind, start, end, text[start:end]))
        return out

    def redact(self, text: str) -> str:
        """``text`` with each piece of personal data replaced by its type: "<EMAIL>", "<NAME>" …
        The last few results are remembered: one question is checked by the answer cache and then
        redacted for the transcript."""
        return _redacted(self, text)

    def _redact(self, text: str) -> str:
        parts: list[str] = []
        last = 0
        for f in self.find(text):
            parts += [text[last : f.start], f"<{f.type}>"]
            last = f.end
        return "".join(parts) + text[last:]


@lru_cache(maxsize=256)
def _redacted(redactor: Redactor, text: str) -> str:
    return redactor._redact(text)
