"""The hallucination guard: every sentence of an answer is checked against the passages it cites
before the customer sees it.

Two kinds of checks, cheapest first:

* exact: every amount, number, percentage, phone number, e-mail address, URL and product-like name
  ("NordWind", "XL", "5G") of the sentence must occur in a passage the sentence cites (normalised:
  "9,90 €" = "9.90 EUR"); a sentence that states something without citing a passage fails;
* judged: the generating model, in a fresh prompt, is shown only the passages the sentence cites
  and asked whether they say it; the score is its first-token probability of YES against NO. The
  passage comes first, so sentences citing the same passage share the KV prefix. (Asking the model
  in the answer's own conversation was tried first: it approves its own sentences, P(YES) 0.6-0.9
  for right and wrong ones alike.)

The policy is applied by the pipeline (``Pipeline._verified``): unsupported sentences are removed;
when the answer's first statement (the direct answer: the prompt asks for it first) is
unsupported, nothing is sent and the pipeline refuses or hands off instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from . import prompts
from .citations import FREE, MARKER, NAME, PLACEHOLDER, marker_numbers, quantities, restates, with_digits
from .errors import BackendUnavailable
from .lexical import tokenize
from .llm import Message, YesNo

log = logging.getLogger(__name__)

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]]+", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w.,])\+?\(?\d[\d ()/-]{6,}\d(?![\w.,]\d)")
# a sentence that contradicts the question may repeat the question's wrong number
_NEGATION = re.compile(r"\b(?:not|no|nicht|kein\w*|nein|sondern|statt|instead|rather)\b", re.IGNORECASE)
# units and currencies a sentence may write differently from the passage ("EUR" for "€")
_ALWAYS_OK = {"EUR", "USD", "CHF", "GBP", "GB", "MB", "KB", "TB", "KI", "AI", "OK", "FAQ", "PDF", "DE", "EN"}


@dataclass(frozen=True)
class SentenceCheck:
    """What the guard found about one sentence of the model's answer."""

    text: str  # as the model wrote it (prompt passage numbers); with the guard's marker if it added one
    cited: tuple[int, ...]  # prompt passage numbers (1-based)
    supported: bool
    problems: tuple[str, ...] = ()
    score: float | None = None  # the judged check's P(supported), when it ran
    factual: bool = True  # False: a question back or a courtesy; needs no source


def cited_numbers(sentence: str) -> tuple[int, ...]:
    return tuple(dict.fromkeys(n for m in MARKER.finditer(sentence) for n in marker_numbers(m)))


def states_facts(text: str) -> bool:
    """A question back to the customer or a short courtesy ("Gern geschehen.") states nothing."""
    bare = MARKER.sub("", text).strip()
    return not bare.endswith("?") and (len(bare.split()) >= 3 or bool(re.search(r"\d", bare)))


def echoes(sentence: str, question: str) -> bool:
    """The customer's own question (or its tag "..., right?") repeated back: a small model opens with
    it, and read as the assistant's words it asserts the customer's premise ("The eSIM switch is free,
    right?"). It states nothing the guard could check, so it would pass as a question back."""
    bare = MARKER.sub("", sentence).strip()
    words = tokenize(bare)
    if not bare.endswith("?") or len(words) < 3:
        return False
    asked = set(tokenize(question))
    return sum(w in asked for w in words) >= 0.8 * len(words)


# a statement turned into a question by a tag: "The ICCID has 20 digits, right?"
_TAG = re.compile(
    r"^(?P<claim>.*?\w.*?)[,;]?\s*(?:right|correct|isn't it|is that right|is that correct|oder|richtig|stimmt's"
    r"|stimmt das|nicht wahr|gell)\s*\?$",
    re.IGNORECASE,
)


def tagged_claim(sentence: str, question: str) -> str | None:
    """The statement a tag question of the model makes when it states a number ("The admin page is at
    192.168.8.1, right?" → "The admin page is at 192.168.8.1."), with its markers: it is checked like
    any statement (as a question it would pass unchecked). An echo of the customer's question with the
    passage's number in place of theirs ("… has 20 digits, right?" for 19) is the correction. None
    for a question back ("You want to cancel, right?") and for an echo that keeps the customer's
    numbers: that one is withheld as an echo."""
    bare = MARKER.sub("", sentence).strip()
    m = _TAG.match(bare)
    if m is None or not quantities(bare):  # "You want to cancel, right?" asks the customer back
        return None
    if echoes(sentence, question) and not quantities(bare) - quantities(question):
        return None
    markers = "".join(f"[{n}]" for n in cited_numbers(sentence))
    return f"{m.group('claim').rstrip(' ,;')}{' ' + markers if markers else ''}."


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _url_key(url: str) -> str:
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower()).rstrip("/.,;")


def exact_problems(sentence: str, sources: Sequence[str], question: str = "") -> list[str]:
    """What the sentence states that none of ``sources`` (its cited passages) contains. Names the
    customer used in the question count as known (the answer may repeat them); numbers only in a
    sentence that negates (a false premise corrected: "costs 19.90, not 9.90")."""
    text = MARKER.sub("", sentence)
    source = "\n".join(sources)
    lowered = source.lower()
    problems: list[str] = []
    digits = _digits(source)
    for phone in _PHONE.findall(text):
        d = _digits(phone)
        if len(d) < 7:
            continue
        if d not in digits and d.lstrip("0") not in digits:  # other spacing than the passage is fine
            problems.append(f"phone number {phone.strip()} not in the cited passage")
        text = text.replace(phone, " ")  # judged as a whole, not as digit groups
    # the digits of a name the customer wrote ("Home Box 5G") are not a number the passage must state
    named = [n for n in dict.fromkeys(NAME.findall(text)) if n.lower() in question.lower()]
    counted = re.sub(r"\b(?:" + "|".join(map(re.escape, named)) + r")\b", " ", text) if named else text
    unknown = quantities(counted) - quantities(source) - quantities(with_digits(source))
    if question and _NEGATION.search(text):  # "19,90 €, nicht 9,90 €": correcting the customer's number
        unknown -= quantities(question)
    missing = dict.fromkeys(q.lstrip("€%") for q in sorted(unknown))
    problems += [f"number {q} not in the cited passage" for q in missing]
    problems += [f"e-mail {e} not in the cited passage" for e in EMAIL.findall(text) if e.lower() not in lowered]
    urls = {_url_key(u) for u in _URL.findall(source)}
    problems += [
        f"URL {u} not in the cited passage"
        for u in _URL.findall(text)
        if _url_key(u) not in urls and _url_key(u) not in lowered
    ]
    if FREE.search(text) and not FREE.search(source):  # a price of zero is a figure too
        problems.append("says it is free; the cited passage does not")
    if PLACEHOLDER in text and PLACEHOLDER not in source:
        problems.append("repeats the placeholder of the customer's figure")  # "kostet … pro Monat"
    known = lowered + "\n" + question.lower()
    for name in dict.fromkeys(NAME.findall(EMAIL.sub(" ", _URL.sub(" ", text)))):
        if name.upper() not in _ALWAYS_OK and not re.fullmatch(r"\d+", name) and name.lower() not in known:
            problems.append(f"name {name} not in the cited passage")
    return problems


def attribute(sentence: str, passages: Sequence[str], question: str = "") -> int | None:
    """The passage (1-based) an uncited sentence most likely comes from: among the passages that
    contain all its numbers and names, the one sharing the most words with it (at least two, or a
    number). Small models often drop the marker of a correct sentence; the guard then cites and
    checks it instead of throwing it away. None when no passage qualifies."""
    words = set(tokenize(MARKER.sub("", sentence)))
    best, best_overlap = None, 0
    for n, passage in enumerate(passages, 1):
        if exact_problems(sentence, [passage], question):
            continue
        shared = words & set(tokenize(passage))
        enough = len(shared) >= 2 or any(any(ch.isdigit() for ch in w) for w in shared)
        if enough and len(shared) > best_overlap:
            best, best_overlap = n, len(shared)
    return best


def judge_messages(passages: Sequence[str], sentence: str) -> list[Message]:
    """The judged check's prompt: the cited passages first (shared KV prefix across the sentences
    that cite them), then the sentence without its markers."""
    ask = prompts.template("verify_user.txt").format(
        passages="\n\n".join(passages), sentence=MARKER.sub("", sentence).strip()
    )
    return [
        {"role": "system", "content": prompts.template("verify_system.txt").strip()},
        {"role": "user", "content": ask.strip()},
    ]


def with_marker(sentence: str, n: int) -> str:
    """``sentence`` citing passage ``n``, the marker before its final punctuation."""
    body = sentence.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else ""
    return f"{body[: len(body) - len(end)].rstrip()} [{n}]{end}"


class Verifier:
    """Checks the sentences of one answer; ``judge`` is the generating model (or None: exact checks
    only, e.g. a backend without log-probabilities)."""

    def __init__(self, judge: YesNo | None, *, threshold: float) -> None:
        self.judge = judge
        self.threshold = threshold

    def check(
        self,
        sentence: str,
        passages: Sequence[str],
        *,
        question: str,
        unconfirmed: Sequence[str] = (),
    ) -> SentenceCheck:
        """One sentence as the model wrote it (its [n] markers), against the passages of the prompt.
        ``unconfirmed``: figures of the question no passage states about what is asked; the answer
        says so, and a sentence stating one after all (the paper bill's "1,50 € per month" for the
        itemised bill) contradicts that, unless it negates it ("19,90 €, nicht 29,99 €")."""
        cited = tuple(n for n in cited_numbers(sentence) if 1 <= n <= len(passages))
        claim = tagged_claim(sentence, question)
        if claim is not None:
            return self.check(claim, passages, question=question, unconfirmed=unconfirmed)
        if echoes(sentence, question):
            return SentenceCheck(sentence, cited, False, ("repeats the customer's question",), factual=False)
        if not states_facts(sentence):
            return SentenceCheck(sentence, cited, True, factual=False)
        if not cited:
            n = attribute(sentence, passages, question)
            if n is None:
                return SentenceCheck(sentence, cited, False, ("states a fact without citing a passage",))
            sentence, cited = with_marker(sentence, n), (n,)
        problems = exact_problems(sentence, [passages[n - 1] for n in cited], question)
        bare = MARKER.sub("", sentence)
        if not _NEGATION.search(bare):
            problems += [f"states {f}, which the articles do not confirm" for f in unconfirmed if restates(bare, f)]
        if problems:
            return SentenceCheck(sentence, cited, False, tuple(problems))
        if self.judge is None:
            return SentenceCheck(sentence, cited, True)
        check = judge_messages([passages[n - 1] for n in cited], sentence)
        try:
            score = self.judge.yes_probability(check)
        except BackendUnavailable:
            raise  # the model itself is down (crashed, restarting): the request fails, it is not refused
        except Exception:  # a check that cannot run does not pass
            log.exception("judged check failed")
            return SentenceCheck(sentence, cited, False, ("the judged check failed",))
        if score < self.threshold:
            return SentenceCheck(sentence, cited, False, (f"judged unsupported (P={score:.2f})",), score)
        return SentenceCheck(sentence, cited, True, (), score)
