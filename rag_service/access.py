"""Who may do what: API keys with one role each, stored hashed.

A key is shown once, when it is created; the database keeps only its SHA-256 (keys are 256 random
bits, so a fast hash cannot be brute-forced) and an 8-character prefix to recognise it by. A
``customer`` key is bound to one customer id and acts only for that customer.

    customer  ask (answer, chat) and give feedback, for its own customer id only
    agent     also drafts, handoffs, customer profiles, documents (read)
    qa        ask, analytics, dashboard, evaluation, documents (read)
    admin     everything, including documents (write) and keys
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .db import ApiKeyRow, now, utc
from .errors import Forbidden, InvalidInput, NotFound, Unauthorized

Role = Literal["customer", "agent", "qa", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
SECRET_PREFIX = "rsk_"


@dataclass(frozen=True)
class Principal:
    """The caller of one request: a key's identity, or the operator when keys are switched off."""

    role: Role
    key_id: str | None = None
    name: str = "anonymous"
    customer_id: str | None = None  # set for customer keys only

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise Forbidden(f"this needs a key with role {' or '.join(roles)}, not {self.role}")

    def acting_for(self, customer_id: str | None) -> str | None:
        """The customer id a request may act for: a customer key's own (naming another is refused);
        any id the caller names for the other roles."""
        if self.role != "customer":
            return customer_id
        if customer_id is not None and customer_id != self.customer_id:
            raise Forbidden("a customer key acts only for its own customer id")
        return self.customer_id


OPERATOR = Principal(role="admin", name="operator (keys switched off)")


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    role: Role
    customer_id: str | None
    prefix: str  # the first characters of the secret, to recognise a key in a list
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    """The one owner of the ``api_keys`` table."""

    def __init__(self, engine: Engine) -> None:
        self._session = sessionmaker(engine, expire_on_commit=False)

    def create(self, *, role: str, name: str, customer_id: str | None = None) -> tuple[ApiKey, str]:
        """A new key and its secret (the only time the secret exists outside the caller)."""
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
        name = " ".join(name.split())
        if not name or len(name) > 200:
            raise InvalidInput("a key needs a name of 1 to 200 characters")
        if (role == "customer") != bool(customer_id):
            raise InvalidInput("a customer key needs --customer ID; other roles take none")
        if customer_id is not None and len(customer_id) > 128:
            raise InvalidInput("customer id is longer than 128 characters")
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(
            id=f"key_{uuid.uuid4().hex[:16]}",
            name=name,
            role=role,
            customer_id=customer_id,
            prefix=secret[: len(SECRET_PREFIX) + 6],
            digest=_digest(secret),
        )
        with self._session.begin() as s:
            s.add(row)
        return _key(row), secret

    def all(self) -> list[ApiKey]:
        with self._session() as s:
            return [_key(r) for r in s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))]

    def revoke(self, key_id: str) -> ApiKey:
        with self._session.begin() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"no key {key_id}")
            row.revoked_at = row.revoked_at or now()
            return _key(row)

    def erase_customer(self, customer_id: str) -> int:
        """Delete the keys bound to a customer (their erasure); how many."""
        with self._session.begin() as s:
            return int(s.execute(delete(ApiKeyRow).where(ApiKeyRow.customer_id == customer_id)).rowcount)  # type: ignore[attr-defined]

    def of_customer(self, customer_id: str) -> list[ApiKey]:
        return [k for k in self.all() if k.customer_id == customer_id]

    def any_active(self) -> bool:
        with self._session() as s:
            return s.scalar(select(ApiKeyRow.id).where(ApiKeyRow.revoked_at.is_(None)).limit(1)) is not None

    def authenticate(self, secret: str | None) -> Principal:
        """The principal of a presented secret; Unauthorized when it is missing, unknown or revoked."""
        if not secret:
            raise Unauthorized("send an API key: Authorization: Bearer <key>")
        with self._session.begin() as s:
            row = _find(s, _digest(secret))
            if row is None or row.revoked_at is not None:
                raise Unauthorized("the API key is unknown or revoked")
            stamp = now()
            if row.last_used_at is None or (stamp - utc(row.last_used_at)).total_seconds() > 60:
                row.last_used_at = stamp  # at most one write a minute per key
            return Principal(role=row.role, key_id=row.id, name=row.name, customer_id=row.customer_id)  # type: ignore[arg-type]


def _find(s: Session, digest: str) -> ApiKeyRow | None:
    return s.scalar(select(ApiKeyRow).where(ApiKeyRow.digest == digest))


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        role=row.role,  # type: ignore[arg-type]
        customer_id=row.customer_id,
        prefix=row.prefix,
        created_at=utc(row.created_at),
        revoked_at=utc(row.revoked_at) if row.revoked_at else None,
        last_used_at=utc(row.last_used_at) if row.last_used_at else None,
    )
