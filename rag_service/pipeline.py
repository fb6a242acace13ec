"""question -> (handoff?) -> retrieve -> generate -> parse citations -> action.

``Pipeline.events`` is the one code path for every endpoint: it yields text as it becomes
final and ends with the complete ``AnswerResult``; ``Pipeline.answer`` just collects it.

Text reaches the customer a sentence at a time, and only once a sentence with a valid citation has
been written: uncited sentences wait for the next cited one, and an answer that never cites a
passage is replaced by a refusal. So the streaming and non-streaming replies are identical, and no
ungrounded text is ever sent first and retracted later.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from . import prompts
from .citations import Renumberer, repair_citations, split_sentences, unsupported_numbers
from .config import Settings
from .conversations import ConversationStore, Turn
from .documents import Audience
from .errors import InvalidInput
from .intents import frustrated, needs_account, wants_human
from .language import SUPPORTED, detect_language
from .llm import Generator, Message, Usage
from .retrieval import Passage, Retriever

Action = Literal["answer", "refuse", "handoff"]
NO_ANSWER = "NO_ANSWER"


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    title: str
    source: str
    chunk_id: str
    text: str
    page: int | None


@dataclass(frozen=True)
class Query:
    question: str
    conversation_id: str | None = None
    customer_id: str | None = None
    language: str | None = None
    history: Sequence[Turn] | None = None  # None: read the conversation's recent turns from the store
    audience: Audience = "public"
    disclose: bool = False  # start the first reply of a conversation with the AI disclosure


@dataclass
class AnswerResult:
    id: str
    conversation_id: str
    action: Action
    reason: str | None
    answer: str
    language: str
    citations: list[Citation]
    disclosure: str | None = None
    ai_generated: bool = True
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    passages: list[Passage] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # generated sentences withheld as unsupported


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Done:
    result: AnswerResult


Event = TextDelta | Done


def format_passages(passages: Sequence[Passage]) -> str:
    return "\n\n".join(f"[{i}] {p.chunk.text}" for i, p in enumerate(passages, 1))


def _has_words(text: str) -> bool:
    return len(re.findall(r"\w{2,}", _strip_markers(text))) >= 1


def _strip_markers(text: str) -> str:
    from .citations import MARKER

    return MARKER.sub("", text)


class Pipeline:
    def __init__(
        self, settings: Settings, retriever: Retriever, generator: Generator, conversations: ConversationStore
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.generator = generator
        self.conversations = conversations

    # ------------------------------------------------------------------ public
    def answer(self, query: Query) -> AnswerResult:
        for event in self.events(query):
            if isinstance(event, Done):
                return event.result
        raise AssertionError("pipeline ended without a result")  # pragma: no cover

    def events(self, query: Query) -> Iterator[Event]:
        """Validate at once (so errors surface before a response starts), then stream."""
        question = " ".join(query.question.split())
        if not question:
            raise InvalidInput("question must not be empty")
        if len(question) > self.settings.max_question_chars:
            raise InvalidInput(f"question is longer than {self.settings.max_question_chars} characters")
        if query.language is not None and query.language not in SUPPORTED:
            raise InvalidInput(f"language must be one of {', '.join(SUPPORTED)} (or null to detect it)")
        return self._events(query, question)

    # ------------------------------------------------------------------ steps
    def _events(self, query: Query, question: str) -> Iterator[Event]:
        started = time.perf_counter()
        cid = self.conversations.ensure(query.conversation_id, query.customer_id)
        history = (
            list(query.history)
            if query.history is not None
            else self.conversations.history(cid, turns=self.settings.history_turns)
        )
        previous_user = next((t.content for t in reversed(history) if t.role == "user"), None)
        language = query.language or detect_language(question, default=self._history_language(history))
        texts = prompts.service_texts(language)
        result = AnswerResult(
            id=f"ans_{uuid.uuid4().hex[:20]}",
            conversation_id=cid,
            action="answer",
            reason=None,
            answer="",
            language=language,
            citations=[],
        )
        if query.disclose and not any(t.role == "assistant" for t in history):
            result.disclosure = texts.disclosure
        # the disclosure rides on the first real text, so the first event comes only after the model
        # accepted the request (a full queue must still be able to answer 429)
        prefix = f"{result.disclosure}\n\n" if result.disclosure else ""
        for event in self._decide(result, query, question, history, previous_user, texts, started):
            if prefix and isinstance(event, TextDelta):
                event, prefix = TextDelta(prefix + event.text), ""
            yield event
        result.timings["total_ms"] = (time.perf_counter() - started) * 1000
        self.conversations.add_exchange(
            cid,
            question=question,
            answer=result.answer,
            answer_id=result.id,
            action=result.action,
            reason=result.reason,
            language=language,
            citations=[c.__dict__ for c in result.citations],
        )
        yield Done(result)

    def _decide(
        self,
        result: AnswerResult,
        query: Query,
        question: str,
        history: Sequence[Turn],
        previous_user: str | None,
        texts: prompts.ServiceTexts,
        started: float,
    ) -> Iterator[Event]:
        for detect, reason in (
            (wants_human, "explicit_request"),
            (frustrated, "frustration"),
            (needs_account, "account_specific"),
        ):
            if detect(question):
                yield from self._fixed(result, "handoff", reason, texts.handoff)
                return
        queries = [question] + ([f"{previous_user} {question}"] if previous_user else [])
        passages = self.retriever.retrieve(queries, audience=query.audience)
        result.passages = passages
        result.timings["retrieval_ms"] = (time.perf_counter() - started) * 1000
        if not passages:
            yield from self._fixed(result, "refuse", "not_in_knowledge_base", texts.refuse)
            return
        yield from self._generate(result, question, history, passages, texts.language, texts.refuse)

    def _history_language(self, history: Sequence[Turn]) -> str:
        for turn in reversed(history):
            if turn.role == "user":
                return detect_language(turn.content, default="en")
        return "en"

    def _fixed(self, result: AnswerResult, action: Action, reason: str, text: str) -> Iterator[Event]:
        result.action, result.reason, result.answer = action, reason, text
        yield TextDelta(text)

    def messages(
        self, question: str, history: Sequence[Turn], passages: Sequence[Passage], language: str
    ) -> list[Message]:
        """A fixed system prompt (always in the KV cache), then the passages, the conversation and the
        question last, so a follow-up that retrieves the same passages reuses them too."""
        system = prompts.template("answer_system.txt")
        lines = []
        for turn in history[-2 * self.settings.history_turns :] if self.settings.history_turns else []:
            who = "Customer" if turn.role == "user" else "Assistant"
            lines.append(f"Earlier {who.lower()} message: {_strip_markers(turn.content)[:400]}")
        past = ("\n".join(lines) + "\n") if lines else ""
        user = prompts.template("answer_user.txt").format(
            passages=format_passages(passages), history=past, question=question, language=language
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def _generate(
        self,
        result: AnswerResult,
        question: str,
        history: Sequence[Turn],
        passages: Sequence[Passage],
        language_name: str,
        refuse_text: str,
    ) -> Iterator[Event]:
        usage = Usage()
        gen_started = time.perf_counter()
        release = _Release([p.chunk.text for p in passages])
        buffer = ""
        no_answer = False
        stream = self.generator.stream(
            self.messages(question, history, passages, language_name),
            max_tokens=self.settings.max_tokens,
            temperature=self.settings.temperature,
            usage=usage,
        )
        try:
            for piece in stream:
                buffer += piece
                if NO_ANSWER in buffer or NO_ANSWER.replace("_", " ") in buffer:
                    no_answer = True
                    break
                if NO_ANSWER.startswith(buffer.strip()):
                    continue  # could still become the refusal sentinel
                sentences, buffer = split_sentences(buffer)
                for sentence in sentences:
                    if delta := release.add(sentence):
                        yield TextDelta(delta)
        finally:
            stream.close()  # type: ignore[attr-defined]
        if not no_answer:
            if buffer.strip() and (delta := release.add(buffer.strip())):
                yield TextDelta(delta)
            if delta := release.finish():
                yield TextDelta(delta)
        result.dropped = release.dropped
        result.prompt_tokens, result.completion_tokens = usage.prompt_tokens, usage.completion_tokens
        result.timings["generation_ms"] = (time.perf_counter() - gen_started) * 1000
        if usage.first_token_s is not None:
            result.timings["first_token_ms"] = usage.first_token_s * 1000
        if not release.emitted:
            reason = "not_in_knowledge_base" if no_answer else "unsupported_answer"
            yield from self._fixed(result, "refuse", reason, refuse_text)
            return
        result.answer = " ".join(release.emitted)
        result.citations = [
            Citation(
                n=i,
                doc_id=passages[p - 1].chunk.doc_id,
                title=passages[p - 1].chunk.title,
                source=passages[p - 1].chunk.source,
                chunk_id=passages[p - 1].chunk.chunk_id,
                text=passages[p - 1].chunk.text,
                page=passages[p - 1].chunk.page,
            )
            for i, p in enumerate(release.renumber.order, 1)
        ]


class _Release:
    """Decides, sentence by sentence, what of the model's text may be sent: a sentence stating a
    number no passage contains is withheld; a sentence without a citation waits for the next cited
    one; citations are repaired and renumbered on the way."""

    def __init__(self, sources: list[str]) -> None:
        self.sources = sources
        self.renumber = Renumberer(len(sources))
        self.pending: list[str] = []
        self.emitted: list[str] = []
        self.dropped: list[str] = []

    def add(self, sentence: str) -> str | None:
        """The text to send now (with its leading space), if any."""
        if unsupported_numbers(sentence, self.sources):
            self.dropped.append(sentence)
            return None
        text, cited = self.renumber.rewrite(repair_citations(sentence, self.sources))
        if _has_words(text):
            self.pending.append(text)
        elif self.pending and cited:
            self.pending[-1] += text  # a bare "[1]" belongs to the sentence before
        if not (cited and self.pending):
            return None
        return self._send(" ".join(self.pending))

    def finish(self) -> str | None:
        """Trailing uncited sentences after a grounded answer: kept only when they are short and state
        no number (a closing question, a courtesy), never as the whole answer."""
        tail = " ".join(p for p in self.pending if len(p) <= 120 and not any(ch.isdigit() for ch in p))
        if not (self.emitted and tail):
            return None
        return self._send(tail)

    def _send(self, text: str) -> str:
        delta = (" " if self.emitted else "") + text
        self.emitted.append(text)
        self.pending = []
        return delta
