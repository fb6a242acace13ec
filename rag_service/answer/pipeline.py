"""The answer path, one screen: route → understand → retrieve → check → generate → respond.

``Pipeline.events`` is the one code path for every endpoint: it yields text as it becomes final
and ends with the complete ``AnswerResult``; ``Pipeline.answer`` collects it. Each stage is a module
of this package and reports its milliseconds and model calls into ``result.timings``. A quoted
answer costs two model calls (a translation for the search, the yes/no decision), three when the
quoted sentences are translated; a follow-up one more (its rewrite).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Generator as Flow
from collections.abc import Iterator, Sequence

from .. import prompts
from ..config import Settings
from ..desk.conversations import ConversationStore, Turn
from ..desk.support import HandoffNotifier, SupportStore
from ..errors import InvalidInput, RagError
from ..index.documents import Audience
from ..index.retrieval import Passage, Retriever
from ..language import SUPPORTED
from ..metrics import observe_answer
from ..model.llm import Generator, Message, Usage, YesNo
from ..tone import sentiment_of
from .cache import AnswerCache, Cached
from .check import SentenceCheck, Sentences, answered, check_sentence, cited_numbers, judged
from .citations import MARKER, Renumberer
from .generate import answer_messages, foreign, generate, quoted
from .respond import citations, fallback, record_handoff
from .retrieve import Quote, Selector
from .route import Router
from .types import Action, AnswerResult, Done, Event, Query, TextDelta, Timings
from .understand import language_of, understand


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        generator: Generator,
        conversations: ConversationStore,
        *,
        judge: YesNo | None = None,  # the judged check (one call per answer); None: exact checks only
        support: SupportStore | None = None,  # None: handoffs are not recorded (a bare pipeline)
        notifier: HandoffNotifier | None = None,
        router: Router | None = None,
        cache: AnswerCache | None = None,  # answers to repeated questions (answer/cache.py)
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.generator = generator
        self.conversations = conversations
        self.judge = judge
        self.support = support
        self.notifier = notifier
        self.router = router or Router()  # patterns only, unless given the trained model
        self.cache = cache
        self.selector = Selector(
            retriever.store.embedder, sentences=settings.quote_sentences, words=settings.quote_words
        )
        self.decider = generator if isinstance(generator, YesNo) else None  # whether the quotes answer at all

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

    def _events(self, query: Query, question: str) -> Iterator[Event]:
        started, t = time.perf_counter(), Timings()
        cid = self.conversations.ensure(query.conversation_id, query.customer_id)
        history = (
            list(query.history)
            if query.history is not None
            else self.conversations.history(cid, turns=self.settings.history_turns)
        )
        customer_id = query.customer_id or self.conversations.customer_of(cid)
        profile = self.support.find_customer(customer_id) if self.support is not None and customer_id else None
        plan = profile.plan if profile else None
        known = profile.language if profile and profile.language in SUPPORTED else None
        language = language_of(question, query.language or known, history)
        texts = prompts.service_texts(language)
        answer_id = query.answer_id or new_answer_id()
        result = AnswerResult(answer_id, cid, "answer", None, "", language, [], timings=t)
        if query.disclose and not any(turn.role == "assistant" for turn in history):
            result.disclosure = texts.disclosure
        prefix = f"{result.disclosure}\n\n" if result.disclosure else ""
        with t.stage("route"):
            route = self.router.route(question)  # the customer's own words decide
        # an answer that depends on nothing but the question may be shared with whoever asks it again
        shared = self.cache is not None and route.reason is None and not history and plan is None
        cached = None
        if shared:
            assert self.cache is not None
            with t.stage("cache"):
                cached = self.cache.lookup(question, language, query.audience)
        if route.reason is not None:
            steps = self._say(result, "handoff", route.reason, texts.handoff)
        elif cached is not None:
            steps = self._from_cache(result, cached)
        else:
            steps = self._answer(result, question, query, history, plan, texts)
        for event in steps:  # the disclosure rides on the first text, sent once the model accepted the request
            yield TextDelta(prefix + event.text) if prefix else event
            prefix = ""
        if shared and cached is None and result.action == "answer":
            assert self.cache is not None
            with t.stage("cache"):
                self.cache.put(question, result, query.audience)
        t["total_ms"] = (time.perf_counter() - started) * 1000
        observe_answer(result, cache_lookup=shared)
        self.conversations.add_exchange(
            cid,
            question=question,
            answer=result.answer,
            answer_id=result.id,
            action=result.action,
            reason=result.reason,
            language=result.language,
            citations=[c.__dict__ for c in result.citations],
            latency_ms=t["total_ms"],
            topic=topic_of(result) or self._nearest_article(question, query.audience),
            sentiment="negative" if route.reason in ("frustration", "complaint") else sentiment_of(question),
        )
        if result.action == "handoff" and self.support is not None:
            result.handoff_id = record_handoff(result, customer_id, self.conversations, self.support, self.notifier)
        yield Done(result)

    @staticmethod
    def _from_cache(result: AnswerResult, cached: Cached) -> Iterator[TextDelta]:
        result.answer, result.citations, result.confidence = cached.answer, list(cached.citations), cached.confidence
        result.timings["cache_hit"] = 1
        yield TextDelta(cached.answer)

    def _answer(
        self,
        result: AnswerResult,
        question: str,
        query: Query,
        history: Sequence[Turn],
        plan: str | None,
        texts: prompts.ServiceTexts,
    ) -> Iterator[TextDelta]:
        """Understand, retrieve, generate and check; a refusal (or a person) when nothing passed."""
        t, settings = result.timings, self.settings
        with t.stage("understand"):
            u = understand(
                question,
                history=history,
                language=result.language,
                generator=self.generator,
                rewrite=settings.query_rewrite,
                translate=settings.query_translation and self._written_in_other_languages(result.language),
                plan=plan,
                timings=t,
            )
        with t.stage("retrieve"):
            found = self.retriever.retrieve(u.queries, audience=query.audience)
            quotes = self.selector.select(found, u.queries) if settings.answer_mode == "quote" else []
        result.passages = found
        if not found:
            yield from self._fail(result, "not_in_knowledge_base", history, texts)
            return
        usage = Usage()
        if settings.answer_mode == "quote":
            shown: Sequence[Passage] = found
            text = self._quoted(result, u.asked, found, quotes, usage)
            if text is None:
                yield from self._fail(result, "not_in_knowledge_base", history, texts)
                return
        else:
            shown = found[::-1] if settings.passages_best_last else found
            earlier = [] if u.follow_up or not settings.history_turns else history[-2 * settings.history_turns :]
            messages = answer_messages(u.asked, shown, texts.language, history=earlier, plan=plan)
            t.called("generate")
            text = generate(
                self.generator, messages, max_tokens=settings.max_tokens, temperature=settings.temperature, usage=usage
            )
        failure = yield from self._checked(result, u.asked, shown, text, usage, moves=settings.answer_mode != "quote")
        if failure is not None:
            yield from self._fail(result, failure, history, texts)

    def _written_in_other_languages(self, language: str) -> bool:
        """Whether the index holds articles in another language than the customer's (else
        translating the question for the search cannot find anything more)."""
        return any(d.language not in (language, "") for d in self.retriever.store.documents())

    def _nearest_article(self, question: str, audience: Audience | None) -> str | None:
        """The topic of a question handed on before anything was retrieved (anger, a wish for a
        person): the article nearest to it, so upset questions count on their topic too."""
        try:
            hits = self.retriever.store.dense_search(question, k=1, audience=audience)
        except RagError:
            return None
        return hits[0].chunk.doc_id if hits else None

    def _quoted(
        self, result: AnswerResult, asked: str, found: Sequence[Passage], quotes: Sequence[Quote], usage: Usage
    ) -> Iterator[str] | None:
        """The quoted answer's text, once the model judged that the quotes answer the question."""
        t, settings = result.timings, self.settings
        if not quotes:  # passages without a sentence to quote
            return None
        if self.decider is not None:
            with t.stage("check"):
                t.called("check")
                result.confidence = answered(self.decider, asked, [q.text for q in quotes])
            if result.confidence < settings.answer_threshold:
                return None
        if foreign(quotes, found, result.language):
            t.called("generate")  # their translation
        language, model = result.language, self.generator
        return quoted(quotes, found, language, generator=model, usage=usage, max_tokens=settings.max_tokens)

    # ------------------------------------------------------------------ generate, check, respond
    def _checked(
        self,
        result: AnswerResult,
        question: str,
        passages: Sequence[Passage],
        stream: Iterator[str],
        usage: Usage,
        *,
        moves: bool = True,  # a sentence citing the wrong passage may be re-attributed (model-written text)
    ) -> Flow[TextDelta, None, str | None]:
        """Check each sentence of ``stream`` as it comes, send the ones that passed; why nothing was
        sent, if so."""
        t, sources = result.timings, [p.chunk.text for p in passages]
        renumber, sent, held = Renumberer(len(sources)), list[str](), list[str]()
        hold_all = self.judge is not None  # the judged pass reads the whole answer before anything goes out

        def flush() -> Iterator[TextDelta]:  # send what waited, skipping repeats
            yield from (TextDelta(d) for d in (_emit(sent, h) for h in held) if d)

        generated, checked_before = time.perf_counter(), t.get("check_ms", 0.0)
        reader = Sentences(stream)
        for raw in reader:
            with t.stage("check"):
                check = (
                    check_sentence(raw, sources, question, moves=moves)
                    if self.settings.guard
                    else SentenceCheck(raw, cited_numbers(raw), True)
                )
            if not check.supported:
                result.dropped.append(raw)
                result.grounding.append(_grounding(check, "removed", []))
                continue
            text, cited = renumber.rewrite(check.text)
            if self.settings.guard:
                result.grounding.append(_grounding(check, "verified" if check.factual else "no_claim", cited, renumber))
            held.append(text)
            if check.factual and not hold_all:  # courtesies wait for the first statement
                yield from flush()
                held = []
        t["generate_ms"] = (time.perf_counter() - generated) * 1000 - (t.get("check_ms", 0.0) - checked_before)
        result.prompt_tokens, result.completion_tokens = usage.prompt_tokens, usage.completion_tokens
        if usage.first_token_s is not None:
            t["first_token_ms"] = usage.first_token_s * 1000
        if hold_all and any(g["status"] == "verified" for g in result.grounding):
            assert self.judge is not None
            with t.stage("check"):
                t.called("check")
                cited_passages = [sources[n - 1] for n in renumber.order]
                score = judged(self.judge, " ".join(held), cited_passages)
            if score >= self.settings.guard_threshold:
                yield from flush()
            else:
                result.dropped += held
        if sent and not hold_all:  # a question back after the last statement
            yield from flush()
        if not sent:
            wrote = bool(held or result.grounding)  # something came back, and none of it passed
            return "unsupported_answer" if wrote and not reader.no_answer else "not_in_knowledge_base"
        result.answer = " ".join(sent)
        result.citations = citations(passages, renumber)
        return None

    def _fail(
        self, result: AnswerResult, reason: str, history: Sequence[Turn], texts: prompts.ServiceTexts
    ) -> Iterator[TextDelta]:
        action, why = fallback(
            reason,
            history,
            to_person=self.settings.guard_failure_action == "handoff" and reason == "unsupported_answer",
        )
        yield from self._say(result, action, why, texts.handoff if action == "handoff" else texts.refuse)

    @staticmethod
    def _say(result: AnswerResult, action: Action, reason: str, text: str) -> Iterator[TextDelta]:
        result.action, result.reason, result.answer, result.citations = action, reason, text, []
        yield TextDelta(text)

    def compose(
        self, question: str, passages: Sequence[Passage], language: str, messages: list[Message]
    ) -> AnswerResult:
        """A checked, cited text from a caller's own prompt over ``passages`` (numbered as given),
        outside any conversation: agent drafts use it. An empty ``answer`` means nothing passed."""
        result = AnswerResult(new_answer_id(), "", "answer", None, "", language, [], passages=list(passages))
        usage, settings = Usage(), self.settings
        text = generate(
            self.generator, messages, max_tokens=settings.max_tokens, temperature=settings.temperature, usage=usage
        )
        for _ in self._checked(result, question, passages, text, usage):
            pass
        return result


def topic_of(result: AnswerResult) -> str | None:
    """The article a question is about: the first passage retrieved for it, or (an answer from the
    cache) the first it cites; None when nothing was retrieved (a handoff before retrieval)."""
    if result.passages:
        return result.passages[0].chunk.doc_id
    return result.citations[0].doc_id if result.citations else None


def new_answer_id() -> str:
    return f"ans_{uuid.uuid4().hex[:20]}"


def _emit(sent: list[str], text: str) -> str | None:
    """Record ``text`` as sent; the delta to stream (with its leading space). None for a sentence
    sent already (the model repeating itself)."""
    plain = " ".join(MARKER.sub("", text).lower().split()).rstrip(".!")
    if not plain:
        if sent and MARKER.search(text):
            sent[-1] += text  # a bare "[1]" belongs to the sentence before
            return text
        return None
    if plain in {" ".join(MARKER.sub("", s).lower().split()).rstrip(".!") for s in sent}:
        return None
    sent.append(text)
    return (" " if len(sent) > 1 else "") + text


def _grounding(
    check: SentenceCheck, status: str, cited: list[int], renumber: Renumberer | None = None
) -> dict[str, object]:
    """One entry of the response's ``grounding``: what the check found about a sentence."""
    return {
        "text": MARKER.sub("", check.text).strip(),
        "status": status,
        "citations": [renumber.order.index(n) + 1 for n in dict.fromkeys(cited)] if renumber else [],
        "score": None,
        "problems": list(check.problems),
    }
