"""Stage 6, respond: what the customer is sent besides the checked sentences — the fixed refusal
and handoff texts in their language, the citations numbered in order of use, and the handoff
record a person picks up."""

from __future__ import annotations

from collections.abc import Sequence

from ..desk.conversations import ConversationStore, Turn
from ..desk.support import HandoffNotifier, SupportStore, hand_over
from ..index.retrieval import Passage
from .citations import Renumberer
from .types import Action, AnswerResult, Citation


def citations(passages: Sequence[Passage], renumber: Renumberer) -> list[Citation]:
    """The cited passages, numbered as the answer's markers are."""
    out = []
    for i, p in enumerate(renumber.order, 1):
        c = passages[p - 1].chunk
        out.append(
            Citation(
                n=i, doc_id=c.doc_id, title=c.title, source=c.source, chunk_id=c.chunk_id, text=c.text, page=c.page
            )
        )
    return out


def fallback(reason: str, history: Sequence[Turn], *, to_person: bool) -> tuple[Action, str]:
    """What a question gets when no answer passed: a refusal, or a person when the previous reply
    was a refusal too or the operator chose handoffs (``to_person``)."""
    previous = next((t for t in reversed(history) if t.role == "assistant"), None)
    if previous is not None and previous.action == "refuse":
        return "handoff", "repeated_failure"
    if to_person:
        return "handoff", "low_confidence"
    return "refuse", reason


def record_handoff(
    result: AnswerResult,
    customer_id: str | None,
    conversations: ConversationStore,
    support: SupportStore,
    notifier: HandoffNotifier | None,
) -> str:
    """The handoff of an answer that went to a person (see ``hand_over``)."""
    return hand_over(
        result.conversation_id,
        customer_id,
        answer_id=result.id,
        reason=result.reason or "explicit_request",
        language=result.language,
        conversations=conversations,
        support=support,
        notifier=notifier,
    )
