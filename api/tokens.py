"""Read access tokens: issued by the registrar per organisation, stored only as SHA-256 hashes,
revocable, optionally expiring. A token is shown once, at issue.

Tokens live in the ledger's database, in a table beside the log (not part of it): the views
database may be rebuilt or lost, and a rebuild must not sign every reader out. Tokens that an
older version kept in a separate views database are copied over when the store opens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from sqlalchemy import Column, MetaData, String, Table, create_engine, inspect, select, text, update
from sqlalchemy.engine import Engine

from ledger.errors import InvalidInput, NotFound
from projections.runner import schema_lock, views_engine

PREFIX = "amanah_"
MAX_EXPIRY_DAYS = 3650
metadata = MetaData()
tokens = Table("api_tokens", metadata,
               Column("token_hash", String(64), primary_key=True),
               Column("token_id", String(16), nullable=False, unique=True),
               Column("organisation", String(64), nullable=False),
               Column("issued_at", String(32), nullable=False),
               Column("revoked_at", String(32)),
               Column("label", String(200)),
               Column("expires_at", String(32)))


@dataclass(frozen=True)
class TokenHolder:
    organisation: str
    token_id: str
    expires_at: str | None = None

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= _now()


def digest_of(secret: str) -> str:
    """The SHA-256 hex digest under which a token (or a page session id) is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def ledger_engine(database_url: str) -> Engine:
    """An engine on the ledger's own database, for the tables beside the log (tokens, sessions).
    SQLite keeps the ledger's own journal settings: nothing here changes them."""
    if urlparse(database_url).scheme == "sqlite":
        return create_engine(database_url, connect_args={"timeout": 30})
    return views_engine(database_url)


class TokenStore:
    def __init__(self, engine: Engine, legacy: Engine | None = None):
        """Open the store on `engine` (the ledger's database), creating or upgrading the table;
        tokens found in `legacy` (a views database of an older version) are copied in."""
        self.engine = engine
        with schema_lock(engine) as connection:
            columns = _columns(connection)
            metadata.create_all(connection)
            if columns and "expires_at" not in columns:
                schema = _schema(connection)
                table = f'"{schema}".api_tokens' if schema else "api_tokens"
                connection.execute(text(f"ALTER TABLE {table} ADD COLUMN expires_at VARCHAR(32)"))
        if legacy is not None:
            self._copy_from(legacy)

    def _copy_from(self, legacy: Engine) -> None:
        with legacy.connect() as connection:
            columns = _columns(connection)
            if not columns:
                return
            old = Table(tokens.name, MetaData(), *[Column(column.name, column.type) for column in tokens.columns
                                                   if column.name in columns])
            rows = [dict(row._mapping) for row in connection.execute(select(old))]
        with self.engine.begin() as connection:
            kept = set(connection.execute(select(tokens.c.token_hash)).scalars())
            missing = [row for row in rows if row["token_hash"] not in kept]
            if missing:
                connection.execute(tokens.insert(), missing)

    def issue(self, organisation: str, label: str = "", expires_in_days: int | None = None) -> tuple[str, str]:
        """A new token for `organisation`: (token, token id). Only the hash is kept."""
        expires_at = None
        if expires_in_days is not None:
            if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
                raise InvalidInput(f"must be 1..{MAX_EXPIRY_DAYS} days", field="expires_in_days")
            expires_at = (datetime.now(UTC) + timedelta(days=expires_in_days)).isoformat()
        token = PREFIX + secrets.token_urlsafe(32)
        digest = digest_of(token)
        with self.engine.begin() as connection:
            connection.execute(tokens.insert().values(token_hash=digest, token_id=digest[:16], organisation=organisation,
                                                      issued_at=_now(), revoked_at=None, label=label,
                                                      expires_at=expires_at))
        return token, digest[:16]

    def revoke(self, token_id: str) -> None:
        with self.engine.begin() as connection:
            done = connection.execute(update(tokens).where(tokens.c.token_id == token_id, tokens.c.revoked_at.is_(None))
                                      .values(revoked_at=_now())).rowcount
        if not done:
            raise NotFound(f"no active token {token_id}", field="token_id")

    def lookup(self, token: str) -> TokenHolder | None:
        """Who holds `token` if it exists and is not revoked, expired or not (see `expired`)."""
        if not token.startswith(PREFIX) or len(token) > 100:
            return None
        digest = digest_of(token)
        with self.engine.connect() as connection:
            row = connection.execute(select(tokens).where(tokens.c.token_hash == digest)).first()
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return TokenHolder(row.organisation, row.token_id, row.expires_at)

    def holder(self, token: str) -> TokenHolder | None:
        """Who holds `token`, if it is valid: not revoked, not expired."""
        found = self.lookup(token)
        return None if found is None or found.expired else found

    def valid_id(self, token_id: str) -> bool:
        """Whether the token with this id is still valid (a page session ends with its token)."""
        with self.engine.connect() as connection:
            row = connection.execute(select(tokens).where(tokens.c.token_id == token_id)).first()
        return row is not None and row.revoked_at is None and not TokenHolder(
            row.organisation, row.token_id, row.expires_at).expired

    def list(self) -> list[dict]:
        with self.engine.connect() as connection:
            return [{"token_id": row.token_id, "organisation": row.organisation, "issued_at": row.issued_at,
                     "expires_at": row.expires_at, "revoked_at": row.revoked_at, "label": row.label}
                    for row in connection.execute(select(tokens).order_by(tokens.c.issued_at))]


def _schema(connection) -> str | None:
    return (connection.get_execution_options().get("schema_translate_map") or {}).get(None)


def _columns(connection) -> set[str]:
    """The api_tokens table's column names where `connection` points, empty if there is none."""
    inspector = inspect(connection)
    if not inspector.has_table(tokens.name, schema=_schema(connection)):
        return set()
    return {column["name"] for column in inspector.get_columns(tokens.name, schema=_schema(connection))}


def _now() -> str:
    return datetime.now(UTC).isoformat()
