"""Write keys: `PAPERKG_API_KEYS` pairs or `paperkg keys create` keys, compared in constant time.

Secrets are random 256-bit tokens, so a salted SHA-256 is enough to keep them unrecoverable from
the database (slow password hashes defend guessable secrets, which these are not) and keeps the
check cheap on every write. Secrets are never logged or echoed.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.errors import Conflict, Forbidden, NotFound, Unauthorized
from models import tables as t
from models.base import utc_now

SECRET_PREFIX = "pkg_"


@dataclass(frozen=True)
class WriteKey:
    name: str


def hash_secret(secret: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def parse_env_keys(raw: str) -> list[tuple[str, str]]:
    """`alice:s3cret,bob:t0ken` -> [("alice", "s3cret"), ("bob", "t0ken")]."""
    pairs = []
    for part in raw.split(","):
        name, sep, secret = part.strip().partition(":")
        if sep and name.strip() and secret.strip():
            pairs.append((name.strip(), secret.strip()))
    return pairs


def _stored_keys(session: Session) -> list[tuple[str, str, str]]:
    k = t.api_key
    stmt = select(k.c.name, k.c.salt, k.c.secret_hash).where(k.c.revoked_at.is_(None))
    return [(name, salt, digest) for name, salt, digest in session.execute(stmt)]


def authenticate(session: Session, env_keys: str, authorization: str | None) -> WriteKey:
    """The key named by an `Authorization: Bearer` header, or a 401 / 403 problem."""
    salt = secrets.token_hex(8)  # env secrets are compared through the same hash, freshly salted
    candidates = [(n, salt, hash_secret(s, salt)) for n, s in parse_env_keys(env_keys)]
    candidates += _stored_keys(session)
    if not candidates:
        raise Forbidden("This service is read-only: no write keys are configured.")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Unauthorized("Writes need an `Authorization: Bearer <key>` header.")
    matched: str | None = None
    for name, key_salt, digest in candidates:  # every candidate is checked: no early exit
        if hmac.compare_digest(hash_secret(given.strip(), key_salt), digest):
            matched = name
    if matched is None:
        raise Unauthorized("The key is not valid (unknown or revoked).", error="invalid_token")
    return WriteKey(matched)


def require_write_key(request: Request, session: SessionDep) -> WriteKey:
    settings = request.app.state.settings
    return authenticate(session, settings.api_keys, request.headers.get("authorization"))


WriteKeyDep = Annotated[WriteKey, Depends(require_write_key)]


def create_key(session: Session, name: str) -> str:
    """Store a new key under `name` and return its secret (shown once, never stored)."""
    k = t.api_key
    if session.execute(select(k.c.id).where(k.c.name == name)).first():
        raise Conflict(f"A key named {name!r} exists already.")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    session.execute(
        insert(k).values(
            name=name, salt=salt, secret_hash=hash_secret(secret, salt), created_at=utc_now()
        )
    )
    return secret


def list_keys(session: Session) -> list[dict[str, object]]:
    k = t.api_key
    stmt = select(k.c.name, k.c.created_at, k.c.revoked_at).order_by(k.c.name)
    return [dict(row) for row in session.execute(stmt).mappings()]


def revoke_key(session: Session, name: str) -> None:
    k = t.api_key
    done = session.execute(
        update(k).where(k.c.name == name, k.c.revoked_at.is_(None)).values(revoked_at=utc_now())
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound("key", name)
