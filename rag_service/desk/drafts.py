"""Agent drafts: a reply to a support ticket that an agent edits and sends.

The draft is written in the customer's language, greets them by name, uses their plan to find
the right help article, cites passages ``[n]`` and goes through the same hallucination guard as
chat answers. It never states account data: when the ticket concerns the customer's own invoice,
payment, contract or order, the draft says nothing about it and ``agent_checks`` tells the agent
what to look up. Whether the agent sent the draft as is, edited it or discarded it is recorded,
so drafts can be measured.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from .. import prompts
from ..answer.generate import format_passages
from ..answer.pipeline import Pipeline
from ..answer.route import Router
from ..answer.types import Citation
from ..errors import InvalidInput
from ..language import SUPPORTED, detect_language
from .conversations import ConversationStore
from .support import SupportStore, clip

Action = Literal["send_reply", "check_account", "escalate", "take_over", "answer_personally"]


@dataclass(frozen=True)
class TicketMessage:
    role: Literal["customer", "agent"]
    text: str


@dataclass(frozen=True)
class CustomerContext:
    name: str | None = None
    plan: str | None = None
    language: str | None = None
    earlier_tickets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ticket:
    subject: str
    messages: tuple[TicketMessage, ...]
    customer_id: str | None = None
    customer: CustomerContext | None = None  # inline context; wins over the stored profile


@dataclass
class Draft:
    id: str
    text: str
    language: str
    citations: list[Citation]
    summary: str
    suggested_action: Action
    agent_checks: list[str]
    customer_id: str | None
    grounding: list[dict[str, Any]] = field(default_factory=list)


class Drafter:
    def __init__(
        self, pipeline: Pipeline, support: SupportStore, conversations: ConversationStore, intents: Router
    ) -> None:
        self.pipeline = pipeline
        self.support = support
        self.conversations = conversations
        self.intents = intents

    def _customer(self, ticket: Ticket) -> CustomerContext:
        stored = self.support.customer(ticket.customer_id) if ticket.customer_id else None  # unknown id: 404
        inline = ticket.customer or CustomerContext()
        return CustomerContext(
            name=inline.name or (stored.name if stored else None),
            plan=inline.plan or (stored.plan if stored else None),
            language=inline.language or (stored.language if stored else None),
            earlier_tickets=inline.earlier_tickets,
        )

    def draft(self, ticket: Ticket) -> Draft:
        asked = [m.text for m in ticket.messages if m.role == "customer" and m.text.strip()]
        if not asked:
            raise InvalidInput("the ticket needs at least one customer message")
        message = asked[-1]
        customer = self._customer(ticket)
        language = (
            customer.language
            if customer.language in SUPPORTED
            else detect_language(f"{ticket.subject} {message}", default="en")
        )
        texts = prompts.service_texts(language)
        labels = self.intents.labels(message)
        query = f"{ticket.subject} {message}".strip()
        queries = [query] + ([f"{query} ({customer.plan})"] if customer.plan else [])
        passages = self.pipeline.retriever.retrieve(queries, audience=None)  # agents may read internal articles
        composed = None
        if passages:
            composed = self.pipeline.compose(
                message, passages, language, self._messages(ticket, message, customer, passages, texts.language)
            )
        body = composed.answer if composed and composed.answer else texts.no_kb
        greeting = texts.greeting.format(name=customer.name) if customer.name else texts.greeting_anonymous
        checks = [texts.check_account] if labels["account"] else []
        if labels["account"]:
            action: Action = "check_account"
        elif labels["frustrated"]:
            action = "escalate"
        elif labels["human"]:
            action = "take_over"
        elif not (composed and composed.answer):
            action = "answer_personally"
        else:
            action = "send_reply"
        citations = composed.citations if composed and composed.answer else []
        who = customer.name or "The customer"
        said = self.support.redact(message)  # the summary is stored: no personal data in it
        subject = self.support.redact(ticket.subject)
        mood = [d for d, on in (("frustrated", labels["frustrated"]), ("asks for a person", labels["human"])) if on]
        summary = "\n".join(
            [
                f"{who}{f' ({customer.plan})' if customer.plan else ''}: {clip(subject or said, 90)}"
                f' — "{clip(said, 160)}"',
                f"{'; '.join(['needs account data', *mood] if labels['account'] else mood) or 'general question'}; "
                + (
                    "answered from " + ", ".join(dict.fromkeys(c.title for c in citations))
                    if citations
                    else "no matching help article"
                )
                + f"; suggested: {action.replace('_', ' ')}.",
            ]
        )
        draft = Draft(
            id=f"dft_{uuid.uuid4().hex[:20]}",
            text=f"{greeting}\n\n{body}\n\n{texts.closing}",
            language=language,
            citations=citations,
            summary=summary,
            suggested_action=action,
            agent_checks=checks,
            customer_id=ticket.customer_id,
            grounding=composed.grounding if composed else [],
        )
        self.support.save_draft(
            draft_id=draft.id,
            customer_id=ticket.customer_id,
            ticket=json.dumps(
                {"subject": ticket.subject, "messages": [m.__dict__ for m in ticket.messages]}, ensure_ascii=False
            ),
            language=language,
            text=draft.text,
            summary=summary,
            suggested_action=action,
            citations=json.dumps([c.__dict__ for c in citations], ensure_ascii=False),
        )
        return draft

    def _messages(
        self, ticket: Ticket, message: str, customer: CustomerContext, passages: list[Any], language: str
    ) -> list[Any]:
        context = []
        if customer.plan:
            context.append(f"The customer's plan: {customer.plan}")
        earlier = list(customer.earlier_tickets[-3:])
        if ticket.customer_id:
            earlier += self.conversations.customer_questions(ticket.customer_id, limit=3)
        context += [f"Earlier from this customer: {clip(e, 200)}" for e in earlier]
        context += [f"Earlier in this ticket ({m.role}): {clip(m.text, 200)}" for m in ticket.messages[:-1][-4:]]
        user = prompts.template("draft_user.txt").format(
            passages=format_passages(passages),
            context="\n".join(context) + "\n" if context else "",
            subject=ticket.subject or "-",
            message=message,
            language=language,
        )
        return [
            {"role": "system", "content": prompts.template("draft_system.txt").strip()},
            {"role": "user", "content": user},
        ]
