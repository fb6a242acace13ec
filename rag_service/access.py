"""Who may do what: API keys with one role each, stored hashed.

A key is shown once, when it is created; the database keeps only its SHA-256 (keys are 256 random
bits, so a fast hash cannot be brute-forced) and an 8-character prefix to recognise it by. A
``customer`` key is bound to one customer id and acts only for that customer.

A key may carry an origin list: it is then accepted only from pages of those origins (the
browser's ``Origin`` header). A **widget key** is a customer key with origins and no customer id:
it is published in a web page's ``<script>`` tag, so all it can do is open a visitor session, which
issues a visitor key (a customer key of its own, bound to a fresh ``visitor-…`` id, with the same
origins, valid ``VISITOR_DAYS``, and dead with its widget key).

    customer  ask (answer, chat) and give feedback, for its own customer id only
    agent     also drafts, handoffs, customer profiles, documents (read)
    qa        ask, analytics, dashboard, evaluation, documents (read)
    admin     everything, including documents (write) and keys
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .db import ApiKeyRow, now, utc
from .errors import Forbidden, InvalidInput, NotFound, Unauthorized

Role = Literal["customer", "agent", "qa", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
SECRET_PREFIX = "rsk_"
VISITOR_DAYS = 30  # a visitor key's life; the widget asks for a new one after


@dataclass(frozen=True)
class Principal:
    """The caller of one request: a key's identity, or the operator when keys are switched off."""

    role: Role
    key_id: str | None = None
    name: str = "anonymous"
    customer_id: str | None = None  # set for customer keys only
    origins: tuple[str, ...] = ()  # the pages the key works from; () = anywhere

    @property
    def widget(self) -> bool:
        """A widget key: published in a page, it can only open visitor sessions."""
        return self.role == "customer" and self.customer_id is None and bool(self.origins)

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
    origins: tuple[str, ...] = ()
    parent_id: str | None = None  # the widget key that issued this visitor key
    expires_at: datetime | None = None


def origin_of(value: str) -> str:
    """``https://help.example.com`` from what a person types ("https://help.example.com/", with a
    path, in capitals); InvalidInput for anything that is not an http(s) origin."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"not a web origin: {value!r} (write it as https://help.example.com)")
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"not a web origin: {value!r}") from exc
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{parts.hostname.lower()}" + (f":{port}" if port and port != default else "")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    """The one owner of the ``api_keys`` table."""

    def __init__(self, engine: Engine) -> None:
        self._session = sessionmaker(engine, expire_on_commit=False)
        self._origins: tuple[float, frozenset[str]] = (0.0, frozenset())
        self._origins_lock = threading.Lock()

    def create(
        self, *, role: str, name: str, customer_id: str | None = None, origins: Sequence[str] = ()
    ) -> tuple[ApiKey, str]:
        """A new key and its secret (the only time the secret exists outside the caller). A customer
        key names its customer id, or origins only (a widget key)."""
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
        name = " ".join(name.split())
        if not name or len(name) > 200:
            raise InvalidInput("a key needs a name of 1 to 200 characters")
        allowed = tuple(dict.fromkeys(origin_of(o) for o in origins))
        if len(allowed) > 50:
            raise InvalidInput("at most 50 origins per key")
        if role == "customer" and not (customer_id or allowed):
            raise InvalidInput("a customer key needs --customer ID, or --origin for a web widget")
        if role != "customer" and (customer_id or allowed):
            raise InvalidInput("only customer keys take a customer id or origins")
        if customer_id is not None and len(customer_id) > 128:
            raise InvalidInput("customer id is longer than 128 characters")
        return self._insert(role=role, name=name, customer_id=customer_id, origins=allowed)

    def _insert(
        self,
        *,
        role: str,
        name: str,
        customer_id: str | None,
        origins: tuple[str, ...],
        parent_id: str | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[ApiKey, str]:
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(
            id=f"key_{uuid.uuid4().hex[:16]}",
            name=name,
            role=role,
            customer_id=customer_id,
            prefix=secret[: len(SECRET_PREFIX) + 6],
            digest=_digest(secret),
            origins=" ".join(origins) or None,
            parent_id=parent_id,
            expires_at=expires_at,
        )
        with self._session.begin() as s:
            s.add(row)
        if origins and parent_id is None:
            self._origins = (0.0, frozenset())  # new origins: the allowed origins are read again
        return _key(row), secret

    def visitor(self, widget: Principal) -> tuple[ApiKey, str]:
        """A visitor key for one browser, issued by a widget key: a customer key bound to a new
        ``visitor-…`` id, with the widget key's origins, for ``VISITOR_DAYS``."""
        if not widget.widget or widget.key_id is None:
            raise Forbidden("only a widget key (a customer key with origins and no customer id) opens visitor sessions")
        return self._insert(
            role="customer",
            name=f"visitor via {widget.name}"[:200],
            customer_id=f"visitor-{uuid.uuid4().hex[:20]}",
            origins=widget.origins,
            parent_id=widget.key_id,
            expires_at=now() + timedelta(days=VISITOR_DAYS),
        )

    def all(self, *, visitors: bool = False) -> list[ApiKey]:
        """Every key, oldest first; visitor keys (issued by widget keys, many) only when asked."""
        query = select(ApiKeyRow).order_by(ApiKeyRow.created_at)
        if not visitors:
            query = query.where(ApiKeyRow.parent_id.is_(None))
        with self._session() as s:
            return [_key(r) for r in s.scalars(query)]

    def allowed_origins(self, max_age_s: float = 30.0) -> frozenset[str]:
        """Every origin of an active key: the pages browsers may call the API from (CORS). Read again
        at most every ``max_age_s`` (a new key in another worker counts after that)."""
        read_at, origins = self._origins
        if time.monotonic() - read_at < max_age_s:
            return origins
        with self._origins_lock:
            with self._session() as s:
                rows = s.scalars(
                    select(ApiKeyRow.origins).where(
                        ApiKeyRow.revoked_at.is_(None), ApiKeyRow.origins.is_not(None), ApiKeyRow.parent_id.is_(None)
                    )
                )
                origins = frozenset(o for row in rows if row for o in row.split())
            self._origins = (time.monotonic(), origins)
        return origins

    def purge_expired(self) -> int:
        """Delete visitor keys past their expiry; how many."""
        with self._session.begin() as s:
            gone = s.execute(delete(ApiKeyRow).where(ApiKeyRow.expires_at.is_not(None), ApiKeyRow.expires_at < now()))
            return int(gone.rowcount)  # type: ignore[attr-defined]

    def revoke(self, key_id: str) -> ApiKey:
        with self._session.begin() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"no key {key_id}")
            row.revoked_at = row.revoked_at or now()
        self._origins = (0.0, frozenset())
        return _key(row)

    def erase_customer(self, customer_id: str) -> int:
        """Delete the keys bound to a customer (their erasure); how many."""
        with self._session.begin() as s:
            return int(s.execute(delete(ApiKeyRow).where(ApiKeyRow.customer_id == customer_id)).rowcount)  # type: ignore[attr-defined]

    def of_customer(self, customer_id: str) -> list[ApiKey]:
        return [k for k in self.all(visitors=True) if k.customer_id == customer_id]

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
            if row.expires_at is not None and utc(row.expires_at) <= stamp:
                raise Unauthorized("the API key has expired")
            if row.parent_id is not None:  # a visitor key lives only as long as its widget key
                parent = s.get(ApiKeyRow, row.parent_id)
                if parent is None or parent.revoked_at is not None:
                    raise Unauthorized("the API key is unknown or revoked")
            if row.last_used_at is None or (stamp - utc(row.last_used_at)).total_seconds() > 60:
                row.last_used_at = stamp  # at most one write a minute per key
            return Principal(
                role=row.role,  # type: ignore[arg-type]
                key_id=row.id,
                name=row.name,
                customer_id=row.customer_id,
                origins=tuple(row.origins.split()) if row.origins else (),
            )


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
        origins=tuple(row.origins.split()) if row.origins else (),
        parent_id=row.parent_id,
        expires_at=utc(row.expires_at) if row.expires_at else None,
    )
