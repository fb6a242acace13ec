"""Request and response bodies of the HTTP API (the contract in DESIGN.md). Kept apart from the
core's types: ``*Out.from_result`` decides exactly what a client sees."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from ..access import ApiKey
from ..answer.types import AnswerResult, Citation
from ..desk.alerts import Alert
from ..desk.drafts import Draft
from ..desk.learning import Suggestion
from ..desk.support import Customer, Handoff
from ..desk.triage import Triaged
from ..index.documents import DocumentRecord

conversation_id_field = Field(
    None, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$", description="Continue this conversation; null starts one."
)
customer_id_field = Field(None, max_length=128, description="The customer asking, when known (personalisation).")


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(
        ..., min_length=1, max_length=2000, pattern=r"\S", description="The question (RAG_MAX_QUESTION_CHARS)."
    )
    conversation_id: str | None = conversation_id_field
    customer_id: str | None = customer_id_field
    language: Literal["de", "en"] | None = Field(
        None, description="Answer language; null detects it from the question."
    )


class CitationOut(BaseModel):
    n: int = Field(description="The number used as [n] in the answer text.")
    doc_id: str
    title: str
    source: str
    chunk_id: str
    text: str = Field(description="The cited passage, so a person can check the answer.")
    page: int | None = None

    @classmethod
    def from_core(cls, c: Citation) -> CitationOut:
        return cls(**c.__dict__)


class Timings(BaseModel):
    """Milliseconds and model calls per stage of the answer path (rag_service/answer/)."""

    understand_ms: float = 0
    route_ms: float = 0
    retrieve_ms: float = 0
    generate_ms: float = 0
    check_ms: float = 0
    total_ms: float = 0
    first_token_ms: float | None = None
    understand_calls: int = Field(0, description="Model calls to rewrite a follow-up into a standalone question.")
    generate_calls: int = 0
    check_calls: int = Field(0, description="Model calls of the judged check (RAG_GUARD_JUDGE).")
    model_calls: int = Field(0, description="All model calls for this answer.")
    cache_ms: float = 0
    cache_hit: bool = Field(
        False, description="Answered from the answer cache (an earlier answer to the same question)."
    )

    @classmethod
    def of(cls, r: AnswerResult) -> Timings:
        return cls.model_validate(
            {
                **{k: round(v, 1) for k, v in r.timings.items()},
                "model_calls": r.timings.model_calls,
                "cache_hit": bool(r.timings.get("cache_hit")),
            }
        )


class RecordedAnswerOut(BaseModel):
    id: str
    conversation_id: str
    action: Literal["answer", "refuse", "handoff"]
    reason: str | None
    answer: str
    language: str | None
    citations: list[CitationOut]
    created_at: datetime


class GroundingOut(BaseModel):
    """What the hallucination guard found about one sentence the model wrote."""

    text: str
    status: Literal["verified", "removed", "no_claim"] = Field(
        description="verified: sent, supported by its cited passages; removed: not sent; no_claim: a courtesy "
        "or a question back, which needs no source."
    )
    citations: list[int] = Field(description="Numbers of the response's citations this sentence relies on.")
    score: float | None = Field(description="The model's probability that the sentence is supported, when judged.")
    problems: list[str] = Field(
        description="Why a removed sentence failed, e.g. 'number 29.90 not in the cited passage'."
    )


class AnswerOut(BaseModel):
    id: str
    conversation_id: str
    action: Literal["answer", "refuse", "handoff"]
    reason: str | None = Field(description="Why the action was taken, e.g. not_in_knowledge_base, explicit_request.")
    answer: str
    language: str
    citations: list[CitationOut]
    ai_generated: bool = True
    timings: Timings
    grounding: list[GroundingOut] = Field(
        description="Per sentence of the model's answer, what the hallucination guard verified (empty when it is off "
        "or the model was not asked)."
    )
    handoff_id: str | None = Field(None, description="With action handoff: the record an agent picks up.")
    confidence: float | None = Field(
        None,
        description="The model's probability that the passage sentences found answer the question (quoted answers; "
        "below RAG_ANSWER_THRESHOLD the question is refused). Null when not asked.",
    )

    @classmethod
    def from_result(cls, r: AnswerResult) -> AnswerOut:
        return cls(
            id=r.id,
            conversation_id=r.conversation_id,
            action=r.action,
            reason=r.reason,
            answer=r.answer,
            language=r.language,
            citations=[CitationOut.from_core(c) for c in r.citations],
            ai_generated=r.ai_generated,
            timings=Timings.of(r),
            grounding=[GroundingOut(**g) for g in r.grounding],
            handoff_id=r.handoff_id,
            confidence=r.confidence,
        )


# ---------------------------------------------------------------- OpenAI-compatible chat
def _integral(value: object) -> object:
    """JSON's 256.0 is the integer 256 (strict models refuse floats otherwise)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatCompletionIn(BaseModel):
    """OpenAI's chat request. Unknown OpenAI fields are accepted and ignored; ``conversation_id``
    may come as an extra body field or the X-Conversation-Id header."""

    model_config = ConfigDict(extra="allow", strict=True)

    model: str | None = None
    messages: list[ChatMessageIn] = Field(
        ...,
        min_length=1,
        description="The conversation, oldest first; its last user message with text is the question.",
        json_schema_extra={
            "contains": {
                "type": "object",
                "properties": {
                    "role": {"const": "user"},
                    "content": {"type": "string", "pattern": "\\S", "maxLength": 2000},
                },
                "required": ["role", "content"],
            }
        },
    )
    stream: bool = False
    max_tokens: Annotated[int, Field(ge=1, le=4096), BeforeValidator(_integral)] | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    user: str | None = Field(None, max_length=128, description="End-user id; used as customer_id.")
    conversation_id: str | None = conversation_id_field


class RagInfo(BaseModel):
    action: Literal["answer", "refuse", "handoff"]
    reason: str | None
    answer_id: str
    conversation_id: str
    grounding: list[GroundingOut] = []
    handoff_id: str | None = None
    timings: Timings | None = None
    confidence: float | None = None

    @classmethod
    def from_result(cls, r: AnswerResult) -> RagInfo:
        return cls(
            action=r.action,
            reason=r.reason,
            answer_id=r.id,
            conversation_id=r.conversation_id,
            grounding=[GroundingOut(**g) for g in r.grounding],
            handoff_id=r.handoff_id,
            timings=Timings.of(r),
            confidence=r.confidence,
        )


def chat_completion(r: AnswerResult, content: str, model: str, completion_id: str) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": r.prompt_tokens,
            "completion_tokens": r.completion_tokens,
            "total_tokens": r.prompt_tokens + r.completion_tokens,
        },
        "citations": [CitationOut.from_core(c).model_dump() for c in r.citations],
        "rag": RagInfo.from_result(r).model_dump(),
    }


def chat_chunk(
    completion_id: str, model: str, delta: dict[str, Any], finish_reason: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        **extra,
    }


# ---------------------------------------------------------------- documents
class DocumentOut(BaseModel):
    doc_id: str
    title: str
    source: str
    language: str
    audience: Literal["public", "internal"]
    chunks: int
    content_hash: str
    ingested_at: str

    @classmethod
    def from_record(cls, r: DocumentRecord) -> DocumentOut:
        return cls(
            doc_id=r.doc_id,
            title=r.title,
            source=r.source,
            language=r.language,
            audience=r.audience,
            chunks=r.n_chunks,
            content_hash=r.content_hash,
            ingested_at=r.ingested_at,
        )


class DocumentUploadOut(DocumentOut):
    status: Literal["added", "updated", "unchanged"]


# ---------------------------------------------------------------- support desk
class HandoffOut(BaseModel):
    id: str
    conversation_id: str
    customer_id: str | None
    answer_id: str | None
    reason: str
    language: str
    summary: str = Field(description="A few lines for the agent: why, the last message, what went unanswered.")
    transcript: list[dict[str, Any]]
    status: Literal["open", "claimed", "closed"]
    claimed_by: str | None
    claimed_at: str | None
    created_at: str
    webhook_delivered: bool

    @classmethod
    def from_core(cls, h: Handoff) -> HandoffOut:
        return cls(
            **{k: v for k, v in h.__dict__.items() if k not in ("claimed_at", "created_at")},
            claimed_at=h.claimed_at.isoformat(timespec="seconds") if h.claimed_at else None,
            created_at=h.created_at.isoformat(timespec="seconds"),
        )


class HandoffList(BaseModel):
    data: list[HandoffOut]


class AgentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    agent: str = Field(..., min_length=1, max_length=128, description="Who takes the conversation over.")


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(None, max_length=200)
    language: Literal["de", "en"] | None = None
    plan: str | None = Field(None, max_length=200, description="Tariff or plan name, as the help articles call it.")
    notes: str | None = Field(None, max_length=5000)


class CustomerOut(CustomerIn):
    id: str
    created_at: str
    updated_at: str

    @classmethod
    def from_core(cls, c: Customer) -> CustomerOut:
        return cls(
            id=c.id,
            name=c.name,
            language=c.language if c.language in ("de", "en") else None,  # type: ignore[arg-type]
            plan=c.plan,
            notes=c.notes,
            created_at=c.created_at.isoformat(timespec="seconds"),
            updated_at=c.updated_at.isoformat(timespec="seconds"),
        )


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    answer_id: str = Field(..., min_length=1, max_length=64)
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=5000)
    source: Literal["customer", "agent"] = "customer"


class FeedbackOut(BaseModel):
    id: int
    answer_id: str
    rating: Literal["up", "down"]


# ---------------------------------------------------------------- agent drafts
class TicketMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    role: Literal["customer", "agent"]
    text: str = Field(..., min_length=1, max_length=20_000)


class CustomerContextIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(None, max_length=200)
    plan: str | None = Field(None, max_length=200)
    language: Literal["de", "en"] | None = None
    earlier_tickets: list[str] = Field(default_factory=list, max_length=20, description="Short earlier ticket texts.")


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    subject: str = Field("", max_length=500)
    messages: list[TicketMessageIn] = Field(
        ...,
        min_length=1,
        max_length=50,
        description="The ticket thread, oldest first; at least one message of the customer with text.",
        json_schema_extra={
            "contains": {
                "type": "object",
                "properties": {"role": {"const": "customer"}, "text": {"type": "string", "pattern": "\\S"}},
                "required": ["role", "text"],
            }
        },
    )
    customer_id: str | None = customer_id_field
    customer: CustomerContextIn | None = Field(
        None, description="Inline customer context; wins over the stored profile."
    )


class DraftOut(BaseModel):
    id: str
    draft: str = Field(description="Greeting, cited body, closing: for the agent to edit and send.")
    language: Literal["de", "en"]
    citations: list[CitationOut]
    summary: str = Field(description="Two lines for the agent: who asks what; intent, source and suggested action.")
    suggested_action: Literal["send_reply", "check_account", "escalate", "take_over", "answer_personally"]
    agent_checks: list[str] = Field(description="What the agent must verify before sending (account data).")
    customer_id: str | None
    grounding: list[GroundingOut]

    @classmethod
    def from_core(cls, d: Draft) -> DraftOut:
        return cls(
            id=d.id,
            draft=d.text,
            language=d.language,  # type: ignore[arg-type]
            citations=[CitationOut.from_core(c) for c in d.citations],
            summary=d.summary,
            suggested_action=d.suggested_action,
            agent_checks=d.agent_checks,
            customer_id=d.customer_id,
            grounding=[GroundingOut(**g) for g in d.grounding],
        )


class DraftOutcomeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={  # an edited draft says what was sent instead
            "if": {"properties": {"outcome": {"const": "edited"}}},
            "then": {"properties": {"final_text": {"type": "string", "pattern": "\\S"}}, "required": ["final_text"]},
        },
    )

    outcome: Literal["sent", "edited", "discarded"]
    final_text: str | None = Field(None, max_length=50_000, description="Required for 'edited': the text sent.")


class DraftOutcomeOut(BaseModel):
    id: str
    outcome: Literal["sent", "edited", "discarded"]
    final_text: str | None


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
ORIGIN_PATTERN = rf"^https?://{_LABEL}(?:\.{_LABEL})*(?::{_PORT})?/?$"  # a web page's origin


class KeyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={  # a customer key: bound to its customer, or to web origins (a widget key)
            "if": {"properties": {"role": {"const": "customer"}}},
            "then": {
                "anyOf": [
                    {"properties": {"customer_id": {"type": "string"}}, "required": ["customer_id"]},
                    {"properties": {"origins": {"type": "array"}}, "required": ["origins"]},
                ]
            },
            "else": {"properties": {"customer_id": {"type": "null"}, "origins": {"type": "null"}}},
        },
    )

    role: Literal["customer", "agent", "qa", "admin"]
    name: str = Field(..., min_length=1, max_length=200, pattern=r"\S", description="Who or what uses the key.")
    customer_id: str | None = Field(
        None, min_length=1, max_length=128, description="Required for a customer key (the one customer it acts for)."
    )
    origins: list[Annotated[str, StringConstraints(pattern=ORIGIN_PATTERN)]] | None = Field(
        None,
        min_length=1,
        max_length=50,
        description="Customer keys only: the key works only from pages of these origins (https://help.example.com). "
        "A customer key with origins and no customer_id is a widget key: it opens visitor sessions for a web chat.",
    )


class KeyOut(BaseModel):
    id: str
    role: Literal["customer", "agent", "qa", "admin"]
    name: str
    customer_id: str | None
    prefix: str = Field(..., description="The secret's first characters, to recognise it.")
    created_at: str
    last_used_at: str | None
    revoked_at: str | None
    origins: list[str] = Field(default_factory=list, description="The pages the key works from; empty: anywhere.")

    @classmethod
    def from_core(cls, k: ApiKey) -> KeyOut:
        return cls(
            id=k.id,
            role=k.role,
            name=k.name,
            customer_id=k.customer_id,
            prefix=k.prefix,
            created_at=k.created_at.isoformat(timespec="seconds"),
            last_used_at=k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else None,
            revoked_at=k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else None,
            origins=list(k.origins),
        )


class KeyCreated(KeyOut):
    secret: str = Field(..., description="The key itself, shown this once: send it as Authorization: Bearer <secret>.")


class ErasedOut(BaseModel):
    customer_id: str
    deleted: dict[str, int] = Field(
        ..., description="Records deleted per kind: profile, conversations, messages, handoffs, drafts, feedback, keys."
    )


class ErrorDetail(BaseModel):
    type: str = Field(..., description="unauthorized, forbidden, not_found, conflict, invalid_request, rate_limited …")
    message: str
    request_id: str


class ErrorOut(BaseModel):
    error: ErrorDetail


class VisitorSessionOut(BaseModel):
    key: str = Field(..., description="The visitor's own key (a customer key): send it as Authorization: Bearer <key>.")
    customer_id: str = Field(..., description="The visitor's customer id (visitor-…): export and erase go by it.")
    expires_at: str


class HandoffRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    language: Literal["de", "en"] | None = Field(None, description="The language of the customer's page (default en).")


class HandoffRequestOut(BaseModel):
    handoff_id: str
    conversation_id: str
    message: str = Field(..., description="What to tell the customer, in their language.")


class TriageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    subject: str = Field("", max_length=500)
    body: str = Field(..., min_length=1, max_length=20_000, pattern=r"\w", description="The ticket's text.")
    customer_id: str | None = Field(None, min_length=1, max_length=128, description="Counts their recent contacts.")


class ArticleOut(BaseModel):
    doc_id: str
    title: str
    score: float = Field(..., description="Cosine similarity of the article's best passage to the ticket.")


class TriageOut(BaseModel):
    category: str | None = Field(..., description="From RAG_TRIAGE_TAXONOMY; null without one.")
    confidence: float = Field(..., description="The category's share of the softmax over all categories (0-1).")
    categories: dict[str, float] = Field(..., description="Every category's share, highest first.")
    queue: str | None
    priority: Literal["low", "normal", "high", "urgent"]
    priority_reasons: list[str]
    language: str
    sentiment: Literal["negative", "neutral", "positive"]
    articles: list[ArticleOut] = Field(..., description="The knowledge-base articles that match the ticket best.")

    @classmethod
    def from_core(cls, t: Triaged) -> TriageOut:
        return cls(
            category=t.category,
            confidence=round(t.confidence, 4),
            categories={k: round(v, 4) for k, v in t.categories.items()},
            queue=t.queue,
            priority=t.priority,  # type: ignore[arg-type]
            priority_reasons=t.reasons,
            language=t.language,
            sentiment=t.sentiment,  # type: ignore[arg-type]
            articles=[ArticleOut(doc_id=a.doc_id, title=a.title, score=a.score) for a in t.articles],
        )


class SuggestionOut(BaseModel):
    id: str
    kind: Literal["edited_draft", "gap"] = Field(
        ..., description="From an agent's edited draft, or a cluster of unanswered questions."
    )
    status: Literal["open", "accepted", "rejected"]
    title: str = Field(..., description="The question the article should answer.")
    questions: list[str] = Field(..., description="How customers asked it (personal data redacted).")
    asked: int
    missing: str = Field(..., description="The missing fact, as far as it is known.")
    wording: str | None = Field(..., description="The agent's wording, if an agent answered it.")
    target_doc: str | None = Field(..., description="The article to change; null: a new article.")
    proposed: str = Field(..., description="The proposed Markdown article.")
    created_at: str
    decided_by: str | None
    decided_at: str | None
    doc_id: str | None = Field(..., description="The document an accepted suggestion became.")

    @classmethod
    def from_core(cls, x: Suggestion) -> SuggestionOut:
        return cls(
            id=x.id,
            kind=x.kind,  # type: ignore[arg-type]
            status=x.status,  # type: ignore[arg-type]
            title=x.title,
            questions=x.questions,
            asked=x.asked,
            missing=x.missing,
            wording=x.wording,
            target_doc=x.target_doc,
            proposed=x.proposed,
            created_at=x.created_at.isoformat(timespec="seconds"),
            decided_by=x.decided_by,
            decided_at=x.decided_at.isoformat(timespec="seconds") if x.decided_at else None,
            doc_id=x.doc_id,
        )


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str | None = Field(
        None,
        min_length=1,
        max_length=100_000,
        pattern=r"\w",
        description="The article as accepted; default: the proposal.",
    )
    doc_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_\-/]{0,200}\.md$",
        description="The file it becomes in the knowledge-base folder; default suggested/<title>.md.",
    )


class AlertOut(BaseModel):
    id: str
    kind: Literal["volume", "negative"] = Field(..., description="Many questions, or many upset ones.")
    topic: str = Field(..., description="The article the questions are nearest to.")
    title: str
    count: int = Field(..., description="Questions in the hour before the alert.")
    usual: float = Field(..., description="The topic's usual questions per hour over the week before.")
    examples: list[str]
    window_start: str
    created_at: str

    @classmethod
    def from_core(cls, a: Alert) -> AlertOut:
        return cls(
            id=a.id,
            kind=a.kind,  # type: ignore[arg-type]
            topic=a.topic,
            title=a.title,
            count=a.count,
            usual=a.usual,
            examples=a.examples,
            window_start=a.window_start.isoformat(timespec="seconds"),
            created_at=a.created_at.isoformat(timespec="seconds"),
        )
