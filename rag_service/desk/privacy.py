"""A customer's data under the GDPR/DSGVO: export everything held about them (Art. 15/20), erase
it (Art. 17), and purge conversations older than the retention period.

Each table's owner deletes its own rows; this module only asks them in order and then compacts the
database file, so an erased string is gone from its bytes, not merely unlinked: SQLite runs with
``secure_delete`` (freed pages are zeroed, see ``rag_service.db``), and after an erasure the WAL is
checkpointed and the file vacuumed. Webhook events already delivered to another system are that
system's to erase.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from ..access import KeyStore
from ..errors import NotFound
from .alerts import scrub_alerts
from .conversations import ConversationStore
from .learning import scrub_suggestions
from .support import SupportStore

log = logging.getLogger(__name__)


class Privacy:
    def __init__(self, engine: Engine, conversations: ConversationStore, support: SupportStore, keys: KeyStore) -> None:
        self.engine, self.conversations, self.support, self.keys = engine, conversations, support, keys

    def export(self, customer_id: str) -> dict[str, Any]:
        """Everything held about the customer; NotFound when nothing is."""
        conversations = self.conversations.of_customer(customer_id)
        answers = self.conversations.answer_ids(conversations)
        records = self.support.records_of(customer_id, conversations, answers)
        keys = [
            {"id": k.id, "name": k.name, "created_at": k.created_at, "revoked_at": k.revoked_at}
            for k in self.keys.of_customer(customer_id)
        ]
        if not (conversations or keys or records["profile"] or records["handoffs"] or records["drafts"]):
            raise NotFound(f"nothing is held about customer {customer_id!r}")
        return {
            "customer_id": customer_id,
            "exported_at": datetime.now(UTC),
            **records,
            "conversations": [{"id": c, "messages": self.conversations.transcript(c)} for c in conversations],
            "api_keys": keys,
        }

    def erase(self, customer_id: str) -> dict[str, int]:
        """Delete every record of the customer, then compact the database; counts per kind.
        NotFound when nothing was held."""
        conversations = self.conversations.of_customer(customer_id)
        answers = self.conversations.answer_ids(conversations)
        asked = {m["content"] for c in conversations for m in self.conversations.transcript(c) if m["role"] == "user"}
        counts = self.support.erase(customer_id, conversations, answers)
        # their questions quoted as alert examples or in suggested articles go too
        counts["quoted"] = scrub_alerts(self.engine, asked) + scrub_suggestions(self.engine, asked)
        counts["messages"] = self.conversations.delete(conversations)
        counts["conversations"] = len(conversations)
        counts["api_keys"] = self.keys.erase_customer(customer_id)
        if not any(counts.values()):
            raise NotFound(f"nothing is held about customer {customer_id!r}")
        compact(self.engine)
        log.info("erased customer records: %s", counts)  # counts only: no id, no content
        return counts

    def purge(self, days: int, *, now: datetime | None = None) -> dict[str, int]:
        """Delete conversations idle for more than ``days`` days, with their handoffs and feedback."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
        expired = self.keys.purge_expired()  # visitor keys of the web chat past their life
        old = self.conversations.idle_since(cutoff)
        if not old:
            return {"conversations": 0, "messages": 0, "handoffs": 0, "feedback": 0, "keys": expired}
        answers = self.conversations.answer_ids(old)
        counts = self.support.erase_conversations(old, answers)
        counts["messages"] = self.conversations.delete(old)
        counts["conversations"] = len(old)
        counts["keys"] = expired
        compact(self.engine)
        log.info("retention (%d days): purged %s", days, counts)
        return counts


def compact(engine: Engine) -> None:
    """Make deleted rows unrecoverable from the database files: SQLite's WAL is folded into the file
    and the file rebuilt; PostgreSQL's VACUUM reclaims the dead rows."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        if engine.dialect.name == "sqlite":
            c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            c.execute(text("VACUUM"))
        elif engine.dialect.name == "postgresql":
            c.execute(text("VACUUM"))
