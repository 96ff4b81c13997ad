"""The page's sign-in sessions: the cookie holds a random id, the server keeps only its digest,
the token it was opened with (by id, never the token) and a CSRF token for the page's forms.
Signing out deletes the row, so a cookie copied before sign-out opens nothing after it; a session
also ends when its token is revoked or expires, and after SESSION_HOURS."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, MetaData, String, Table, delete, select
from sqlalchemy.engine import Engine

from api.tokens import TokenStore, digest_of
from projections.runner import schema_lock

SESSION_HOURS = 8
metadata = MetaData()
sessions = Table("page_sessions", metadata,
                 Column("session_hash", String(64), primary_key=True),
                 Column("token_id", String(16), nullable=False),
                 Column("organisation", String(64), nullable=False),
                 Column("csrf_token", String(64), nullable=False),
                 Column("expires_at", String(32), nullable=False))


@dataclass(frozen=True)
class PageSession:
    organisation: str
    token_id: str
    csrf_token: str


class SessionStore:
    def __init__(self, engine: Engine, tokens: TokenStore):
        self.engine, self.tokens = engine, tokens
        with schema_lock(engine) as connection:
            metadata.create_all(connection)

    def open(self, organisation: str, token_id: str) -> str:
        """A new session for the holder of token `token_id`; returns the id for the cookie."""
        session_id = secrets.token_urlsafe(32)
        expires_at = (datetime.now(UTC) + timedelta(hours=SESSION_HOURS)).isoformat()
        with self.engine.begin() as connection:
            connection.execute(delete(sessions).where(sessions.c.expires_at <= _now()))
            connection.execute(sessions.insert().values(
                session_hash=digest_of(session_id), token_id=token_id, organisation=organisation,
                csrf_token=secrets.token_urlsafe(32), expires_at=expires_at))
        return session_id

    def find(self, session_id: str) -> PageSession | None:
        """The live session with this id, or None (unknown, ended, expired, or its token is not valid)."""
        if not session_id or len(session_id) > 100:
            return None
        with self.engine.connect() as connection:
            row = connection.execute(select(sessions).where(sessions.c.session_hash == digest_of(session_id))).first()
        if row is None or row.expires_at <= _now() or not self.tokens.valid_id(row.token_id):
            return None
        return PageSession(row.organisation, row.token_id, row.csrf_token)

    def end(self, session_id: str) -> None:
        """Sign out: the session's row is deleted, whoever holds a copy of the cookie."""
        with self.engine.begin() as connection:
            connection.execute(delete(sessions).where(sessions.c.session_hash == digest_of(session_id)))


def _now() -> str:
    return datetime.now(UTC).isoformat()
