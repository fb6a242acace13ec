"""The errors the core expects to raise.

    RagError
    ├── InvalidInput        a caller's mistake: empty question, unsupported or broken file (422)
    │   └── DocumentError   one file could not be turned into chunks; carries a readable reason
    ├── Unauthorized        no API key, or an unknown or revoked one (401)
    ├── Forbidden           the key's role or customer does not allow this (403)
    ├── NotFound            doc_id, customer or answer id unknown (404)
    ├── Conflict            the state changed meanwhile: a handoff another agent claimed (409)
    ├── PayloadTooLarge     a request body over the size limit (413)
    ├── RateLimited         a key used up its request rate or concurrent streams (429 + Retry-After)
    ├── BackendUnavailable  model not loaded, Chroma unreachable (503)
    ├── StoreError          the index refused an operation (500, logged with its cause)
    └── ConfigError         bad settings: raised at start-up, never per request

Adapters translate foreign exceptions (chromadb, unstructured, llama.cpp) into these, chained
with ``from exc``; only ``rag_service/api/errors.py`` turns them into HTTP statuses.
"""

from __future__ import annotations


class RagError(Exception):
    """Base of every failure we expect; the message is safe to show to the person who caused it."""


class InvalidInput(RagError):
    """The request or file is wrong in a way its sender can fix."""


class DocumentError(InvalidInput):
    """A file that cannot be ingested; ``reason`` says why in words a support lead understands."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


class Unauthorized(RagError):
    """The request carries no valid API key."""


class Forbidden(RagError):
    """The key is valid but its role, or the customer it is bound to, does not allow this."""


class NotFound(RagError):
    """An id that names nothing we hold."""


class Conflict(RagError):
    """The request is valid but the object's state forbids it now (e.g. already claimed)."""


class PayloadTooLarge(RagError):
    """A request body larger than the service accepts."""


class RateLimited(RagError):
    """Too many requests or streams for one key; ``retry_after_s`` says when a slot frees."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BackendUnavailable(RagError):
    """A model or the index is not ready; retrying later may work."""


class StoreError(RagError):
    """The vector or lexical index failed; the cause is chained, the message is generic."""


class ConfigError(RagError):
    """Settings that cannot work; raised when the process starts, naming the setting."""
