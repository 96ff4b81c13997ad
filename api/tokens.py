"""Read access tokens: issued by the registrar per organisation, stored only as SHA-256 hashes,
revocable. A token is shown once, at issue."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, MetaData, String, Table, select, update
from sqlalchemy.engine import Engine

from ledger.errors import NotFound
from projections.runner import schema_lock

PREFIX = "amanah_"
metadata = MetaData()
tokens = Table("api_tokens", metadata,
               Column("token_hash", String(64), primary_key=True),
               Column("token_id", String(16), nullable=False, unique=True),
               Column("organisation", String(64), nullable=False),
               Column("issued_at", String(32), nullable=False),
               Column("revoked_at", String(32)),
               Column("label", String(200)))


@dataclass(frozen=True)
class TokenHolder:
    organisation: str
    token_id: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, engine: Engine):
        self.engine = engine
        with schema_lock(engine) as connection:
            metadata.create_all(connection)

    def issue(self, organisation: str, label: str = "") -> tuple[str, str]:
        """A new token for `organisation`: (token, token id). Only the hash is kept."""
        token = PREFIX + secrets.token_urlsafe(32)
        digest = _hash(token)
        with self.engine.begin() as connection:
            connection.execute(tokens.insert().values(token_hash=digest, token_id=digest[:16], organisation=organisation,
                                                      issued_at=_now(), revoked_at=None, label=label))
        return token, digest[:16]

    def revoke(self, token_id: str) -> None:
        with self.engine.begin() as connection:
            done = connection.execute(update(tokens).where(tokens.c.token_id == token_id, tokens.c.revoked_at.is_(None))
                                      .values(revoked_at=_now())).rowcount
        if not done:
            raise NotFound(f"no active token {token_id}", field="token_id")

    def holder(self, token: str) -> TokenHolder | None:
        """Who holds `token`, if it is valid and not revoked."""
        if not token.startswith(PREFIX) or len(token) > 100:
            return None
        digest = _hash(token)
        with self.engine.connect() as connection:
            row = connection.execute(select(tokens).where(tokens.c.token_hash == digest)).first()
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return TokenHolder(row.organisation, row.token_id)

    def list(self) -> list[dict]:
        with self.engine.connect() as connection:
            return [{"token_id": row.token_id, "organisation": row.organisation, "issued_at": row.issued_at,
                     "revoked_at": row.revoked_at, "label": row.label}
                    for row in connection.execute(select(tokens).order_by(tokens.c.issued_at))]


def _now() -> str:
    return datetime.now(UTC).isoformat()
