"""Signed webhook events (a new handoff, a raised alert) to the URL in ``RAG_WEBHOOK_URL``.

The body is JSON; ``X-RAG-Signature: sha256=<hex>`` is the HMAC-SHA256 of the exact body bytes
with ``RAG_WEBHOOK_SECRET``, and ``X-RAG-Event`` names the event, so the receiver can verify the
sender before trusting it. Delivery runs on a background thread: the customer's reply never waits
for it. A failed delivery (connection error, timeout, HTTP 5xx or 429) is retried with exponential
backoff; a 4xx other than 429 is the receiver rejecting the event and is not retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from .support import Handoff, SupportStore

log = logging.getLogger(__name__)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def handoff_event(handoff: Handoff) -> dict[str, Any]:
    return {
        "type": "handoff.created",
        "handoff": {
            "id": handoff.id,
            "conversation_id": handoff.conversation_id,
            "customer_id": handoff.customer_id,
            "reason": handoff.reason,
            "language": handoff.language,
            "summary": handoff.summary,
            "created_at": handoff.created_at.isoformat(timespec="seconds"),
        },
    }


class WebhookNotifier:
    """Queues events and delivers them in order on one daemon thread."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        support: SupportStore | None = None,
        retries: int = 5,
        backoff_s: float = 1.0,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self._secret = secret
        self._support = support
        self._retries = retries
        self._backoff_s = backoff_s
        self._client = client or httpx.Client(timeout=10)
        self._sleep = sleep
        # (the event, what to do once the receiver took it)
        self._queue: queue.Queue[tuple[dict[str, Any], Callable[[], None] | None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._thread.start()

    def handoff_created(self, handoff: Handoff) -> None:
        support = self._support
        self._queue.put((handoff_event(handoff), (lambda: support.mark_delivered(handoff.id)) if support else None))

    def send(self, event: dict[str, Any], on_delivered: Callable[[], None] | None = None) -> None:
        """Queue any event (``event["type"]`` names it)."""
        self._queue.put((event, on_delivered))

    def deliver(self, event: dict[str, Any]) -> bool:
        """POST one event, retrying transient failures; True when the receiver took it (2xx)."""
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-RAG-Event": str(event["type"]),
            "X-RAG-Signature": signature(self._secret, body),
        }
        for attempt in range(self._retries + 1):
            try:
                r = self._client.post(self.url, content=body, headers=headers)
                if r.is_success:
                    return True
                if r.status_code < 500 and r.status_code != 429:
                    log.warning("webhook %s rejected %s with HTTP %d", self.url, event["type"], r.status_code)
                    return False
                problem = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                problem = type(exc).__name__
            if attempt < self._retries:
                delay = self._backoff_s * 2**attempt
                log.info("webhook %s failed (%s); retry %d in %.1f s", self.url, problem, attempt + 1, delay)
                self._sleep(delay)
        log.error("webhook %s: gave up on %s after %d attempts", self.url, event["type"], self._retries + 1)
        return False

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            event, on_delivered = item
            try:
                if self.deliver(event) and on_delivered is not None:
                    on_delivered()
            except Exception:  # the delivery thread must outlive any one event
                log.exception("webhook delivery failed")
            finally:
                self._queue.task_done()

    def flush(self, timeout_s: float = 30) -> None:
        """Wait until queued events were delivered or given up (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
        self._client.close()
