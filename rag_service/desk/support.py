"""The support desk's records: customer profiles, handoffs to a person, feedback on answers.

Everything a person must be able to act on later lives here, in the same database as the
conversations (``rag_service.db``). Ids are opaque strings; times are UTC.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..db import CustomerRow, DraftRow, FeedbackRow, HandoffRow, MessageRow, now, utc
from ..errors import Conflict, InvalidInput, NotFound
from .conversations import ConversationStore

HandoffStatus = Literal["open", "claimed", "closed"]
_Row = TypeVar("_Row", CustomerRow, HandoffRow, DraftRow)
REASONS = {
    "explicit_request": "asked for a person",
    "frustration": "sounds frustrated or angry",
    "complaint": "wants to make a complaint",
    "account_specific": "needs someone with access to their account",
    "repeated_failure": "the assistant could not answer twice in a row",
    "unsupported_answer": "the assistant's answer could not be verified against the help articles",
    "low_confidence": "the assistant could not verify its answer against the help articles",
}


@dataclass(frozen=True)
class Customer:
    id: str
    name: str | None
    language: str | None
    plan: str | None
    notes: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Handoff:
    id: str
    conversation_id: str
    customer_id: str | None
    answer_id: str | None
    reason: str
    language: str
    summary: str
    transcript: list[dict[str, Any]]
    status: str
    claimed_by: str | None
    claimed_at: datetime | None
    created_at: datetime
    webhook_delivered: bool


def _customer(r: CustomerRow) -> Customer:
    return Customer(r.id, r.name, r.language, r.plan, r.notes, utc(r.created_at), utc(r.updated_at))


def _handoff(r: HandoffRow) -> Handoff:
    return Handoff(
        r.id,
        r.conversation_id,
        r.customer_id,
        r.answer_id,
        r.reason,
        r.language,
        r.summary,
        json.loads(r.transcript_json),
        r.status,
        r.claimed_by,
        utc(r.claimed_at) if r.claimed_at else None,
        utc(r.created_at),
        bool(r.webhook_delivered),
    )


def _get(s: Session, row_type: type[_Row], key: str, what: str) -> _Row:
    row = s.get(row_type, key)
    if row is None:
        raise NotFound(f"no {what} {key!r}")
    return row


class SupportStore:
    def __init__(self, engine: Engine, *, redact: Callable[[str], str] | None = None) -> None:
        self._session = sessionmaker(engine, expire_on_commit=False)
        self.redact = redact or (lambda text: text)  # customers' words in tickets and comments, as stored

    # ------------------------------------------------------------------ customers
    def put_customer(
        self,
        customer_id: str,
        *,
        name: str | None,
        language: str | None,
        plan: str | None,
        notes: str | None,
    ) -> tuple[Customer, bool]:
        """Create or replace the profile; True when it was created."""
        with self._session() as s, s.begin():
            row = s.get(CustomerRow, customer_id)
            created = row is None
            if row is None:
                row = CustomerRow(id=customer_id)
                s.add(row)
            row.name, row.language, row.plan, row.notes = name, language, plan, notes
            row.updated_at = now()
            s.flush()
            return _customer(row), created

    def customer(self, customer_id: str) -> Customer:
        with self._session() as s:
            return _customer(_get(s, CustomerRow, customer_id, "customer"))

    def find_customer(self, customer_id: str | None) -> Customer | None:
        if not customer_id:
            return None
        with self._session() as s:
            row = s.get(CustomerRow, customer_id)
            return None if row is None else _customer(row)

    # ------------------------------------------------------------------ handoffs
    def create_handoff(
        self,
        *,
        conversation_id: str,
        customer_id: str | None,
        answer_id: str | None,
        reason: str,
        language: str,
        summary: str,
        transcript: Sequence[dict[str, Any]],
    ) -> Handoff:
        row = HandoffRow(
            id=f"ho_{uuid.uuid4().hex[:20]}",
            conversation_id=conversation_id,
            customer_id=customer_id,
            answer_id=answer_id,
            reason=reason,
            language=language,
            summary=summary,
            transcript_json=json.dumps(list(transcript), ensure_ascii=False),
            status="open",
            webhook_delivered=False,
            created_at=now(),
        )
        with self._session() as s, s.begin():
            s.add(row)
        return _handoff(row)

    def open_handoff(self, conversation_id: str) -> Handoff | None:
        """The conversation's handoff that no agent closed yet (a second request adds no new one)."""
        with self._session() as s:
            row = s.scalars(
                select(HandoffRow)
                .where(HandoffRow.conversation_id == conversation_id, HandoffRow.status != "closed")
                .order_by(HandoffRow.created_at.desc())
                .limit(1)
            ).first()
            return None if row is None else _handoff(row)

    def handoffs(self, *, status: str | None = None, limit: int = 50, offset: int = 0) -> list[Handoff]:
        """Newest first."""
        query = select(HandoffRow).order_by(HandoffRow.created_at.desc(), HandoffRow.id)
        if status:
            query = query.where(HandoffRow.status == status)
        with self._session() as s:
            return [_handoff(r) for r in s.scalars(query.limit(limit).offset(offset)).all()]

    def handoff(self, handoff_id: str) -> Handoff:
        with self._session() as s:
            return _handoff(_get(s, HandoffRow, handoff_id, "handoff"))

    def claim_handoff(self, handoff_id: str, agent: str) -> Handoff:
        """One agent per handoff: the update only succeeds while it is open, so two agents
        claiming at once cannot both win."""
        with self._session() as s, s.begin():
            _get(s, HandoffRow, handoff_id, "handoff")
            done = s.execute(
                update(HandoffRow)
                .where(HandoffRow.id == handoff_id, HandoffRow.status == "open")
                .values(status="claimed", claimed_by=agent, claimed_at=now())
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict(f"handoff {handoff_id} is already claimed or closed")
        return self.handoff(handoff_id)

    def close_handoff(self, handoff_id: str, agent: str) -> Handoff:
        with self._session() as s, s.begin():
            row = _get(s, HandoffRow, handoff_id, "handoff")
            if row.status == "closed":
                raise Conflict(f"handoff {handoff_id} is already closed")
            row.status, row.claimed_by = "closed", row.claimed_by or agent
        return self.handoff(handoff_id)

    def mark_delivered(self, handoff_id: str) -> None:
        with self._session() as s, s.begin():
            s.execute(update(HandoffRow).where(HandoffRow.id == handoff_id).values(webhook_delivered=True))

    # ------------------------------------------------------------------ drafts
    def save_draft(
        self,
        *,
        draft_id: str,
        customer_id: str | None,
        ticket: str,
        language: str,
        text: str,
        summary: str,
        suggested_action: str,
        citations: str,
    ) -> None:
        data = json.loads(ticket)
        for message in data.get("messages", []):
            if message.get("role") == "customer":
                message["text"] = self.redact(message.get("text", ""))
        ticket = json.dumps(data, ensure_ascii=False)
        with self._session() as s, s.begin():
            s.add(
                DraftRow(
                    id=draft_id,
                    customer_id=customer_id,
                    ticket_json=ticket,
                    language=language,
                    draft=text,
                    summary=summary,
                    suggested_action=suggested_action,
                    citations_json=citations,
                    created_at=now(),
                )
            )

    def draft_outcome(self, draft_id: str, outcome: str, final_text: str | None) -> dict[str, Any]:
        """What the agent did with a draft: ``sent`` as is, ``edited`` (with the text sent) or
        ``discarded``. Recorded once; a second report is a conflict."""
        if outcome not in ("sent", "edited", "discarded"):
            raise InvalidInput("outcome must be sent, edited or discarded")
        if outcome == "edited" and not (final_text and final_text.strip()):
            raise InvalidInput("an edited draft needs final_text, the text that was sent")
        with self._session() as s, s.begin():
            row = _get(s, DraftRow, draft_id, "draft")
            if row.outcome is not None:
                raise Conflict(f"draft {draft_id} already has the outcome {row.outcome!r}")
            row.outcome = outcome
            row.final_text = final_text if outcome == "edited" else (row.draft if outcome == "sent" else None)
            row.outcome_at = now()
            return {"id": row.id, "outcome": row.outcome, "final_text": row.final_text}

    # ------------------------------------------------------------------ feedback
    def add_feedback(self, answer_id: str, rating: str, comment: str | None, source: str) -> int:
        if rating not in ("up", "down"):
            raise InvalidInput("rating must be 'up' or 'down'")
        with self._session() as s, s.begin():
            known = s.scalars(select(MessageRow.id).where(MessageRow.answer_id == answer_id).limit(1)).first()
            if known is None:
                raise NotFound(f"no answer {answer_id!r}")
            comment = self.redact(comment) if comment else comment
            row = FeedbackRow(answer_id=answer_id, rating=rating, comment=comment, source=source, created_at=now())
            s.add(row)
            s.flush()
            return int(row.id)

    # ------------------------------------------------------------------ one customer's records (GDPR)
    def records_of(
        self, customer_id: str, conversation_ids: Sequence[str], answer_ids: Sequence[str]
    ) -> dict[str, Any]:
        """Everything held about a customer here: profile, handoffs, drafts, feedback on their answers."""
        with self._session() as s:
            profile = s.get(CustomerRow, customer_id)
            handoffs = s.scalars(_handoffs_of(customer_id, conversation_ids).order_by(HandoffRow.created_at)).all()
            drafts = s.scalars(
                select(DraftRow).where(DraftRow.customer_id == customer_id).order_by(DraftRow.created_at)
            ).all()
            feedback = s.scalars(
                select(FeedbackRow).where(FeedbackRow.answer_id.in_(answer_ids)).order_by(FeedbackRow.id)
            ).all()
            return {
                "profile": _customer(profile).__dict__ if profile else None,
                "handoffs": [_handoff(h).__dict__ for h in handoffs],
                "drafts": [_draft_record(d) for d in drafts],
                "feedback": [
                    {
                        "answer_id": f.answer_id,
                        "rating": f.rating,
                        "comment": f.comment,
                        "source": f.source,
                        "created_at": f.created_at,
                    }
                    for f in feedback
                ],
            }

    def erase(self, customer_id: str, conversation_ids: Sequence[str], answer_ids: Sequence[str]) -> dict[str, int]:
        """Delete the customer's profile, handoffs, drafts and the feedback on their answers."""
        with self._session() as s, s.begin():
            handoffs = s.scalars(_handoffs_of(customer_id, conversation_ids).with_only_columns(HandoffRow.id)).all()
            counts = {
                "handoffs": _deleted(s, delete(HandoffRow).where(HandoffRow.id.in_(handoffs))),
                "drafts": _deleted(s, delete(DraftRow).where(DraftRow.customer_id == customer_id)),
                "feedback": _deleted(s, delete(FeedbackRow).where(FeedbackRow.answer_id.in_(answer_ids))),
                "profile": _deleted(s, delete(CustomerRow).where(CustomerRow.id == customer_id)),
            }
        return counts

    def erase_conversations(self, conversation_ids: Sequence[str], answer_ids: Sequence[str]) -> dict[str, int]:
        """Delete the handoffs of these conversations and the feedback on their answers (retention)."""
        with self._session() as s, s.begin():
            return {
                "handoffs": _deleted(s, delete(HandoffRow).where(HandoffRow.conversation_id.in_(conversation_ids))),
                "feedback": _deleted(s, delete(FeedbackRow).where(FeedbackRow.answer_id.in_(answer_ids))),
            }


def _handoffs_of(customer_id: str, conversation_ids: Sequence[str]) -> Any:
    return select(HandoffRow).where(
        (HandoffRow.customer_id == customer_id) | HandoffRow.conversation_id.in_(conversation_ids)
    )


def _deleted(s: Session, statement: Any) -> int:
    return int(s.execute(statement).rowcount)  # type: ignore[attr-defined]


def _draft_record(d: DraftRow) -> dict[str, Any]:
    return {
        "id": d.id,
        "ticket": json.loads(d.ticket_json),
        "language": d.language,
        "draft": d.draft,
        "summary": d.summary,
        "suggested_action": d.suggested_action,
        "outcome": d.outcome,
        "final_text": d.final_text,
        "created_at": d.created_at,
    }


class HandoffNotifier(Protocol):
    """Told about every new handoff (the webhook); must not block the customer's reply."""

    def handoff_created(self, handoff: Handoff) -> None: ...


def clip(text: str, n: int) -> str:
    """``text`` on one line, cut to ``n`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def handoff_summary(transcript: Sequence[dict[str, Any]], reason: str, language: str) -> str:
    """A few lines an agent reads before taking over: why, what the customer wants now, what they
    asked before and what the assistant could not answer. Built from the transcript, not by the
    model: it is instant and cannot invent anything."""
    asked = [m["content"] for m in transcript if m["role"] == "user"]
    unanswered = [
        transcript[i - 1]["content"]
        for i, m in enumerate(transcript)
        if m["role"] == "assistant" and m.get("action") == "refuse" and i > 0 and transcript[i - 1]["role"] == "user"
    ]
    lines = [
        f"Handoff: the customer {REASONS.get(reason, reason)} ({len(asked)} message(s), language {language}).",
        f'Last message: "{clip(asked[-1], 300)}"' if asked else "No customer message.",
    ]
    if len(asked) > 1:
        lines.append("Earlier: " + " / ".join(f'"{clip(a, 120)}"' for a in asked[-4:-1]))
    if unanswered:
        lines.append("Not answered by the assistant: " + " / ".join(f'"{clip(q, 120)}"' for q in unanswered[-3:]))
    return "\n".join(lines)


def hand_over(
    conversation_id: str,
    customer_id: str | None,
    *,
    answer_id: str | None,
    reason: str,
    language: str,
    conversations: ConversationStore,
    support: SupportStore,
    notifier: HandoffNotifier | None,
) -> str:
    """One open handoff per conversation, with the transcript and a summary an agent reads in
    seconds; the webhook (if any) hears about new ones. The id of the open handoff."""
    existing = support.open_handoff(conversation_id)
    if existing is not None:
        return existing.id
    transcript = conversations.transcript(conversation_id)
    handoff = support.create_handoff(
        conversation_id=conversation_id,
        customer_id=customer_id,
        answer_id=answer_id,
        reason=reason,
        language=language,
        summary=handoff_summary(transcript, reason, language),
        transcript=transcript,
    )
    if notifier is not None:
        notifier.handoff_created(handoff)
    return handoff.id
