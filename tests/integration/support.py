"""Helpers shared by the integration tests: building pledges, observing the log's state, and
reaching the database underneath the application (to try to change history)."""

from __future__ import annotations

import base64
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from ledger import merkle, payloads
from ledger.client import Signer

PROGRAMME = "sertakan-2025"
WHEN = "2025-02-01T00:00:00Z"


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def pledge(signer: Signer, idempotency_key: str, pledge_id: str, amount: int = 5_000_000) -> dict:
    """A signed submission of one pledge."""
    return signer.one(idempotency_key, "pledge.made", WHEN, payloads.pledge(PROGRAMME, pledge_id, amount))


def pledge_batch(signer: Signer, idempotency_key: str, count: int, prefix: str = "b",
                 amount: Callable[[int], int] = lambda n: 1_000_000 + n) -> dict:
    """A signed submission of `count` pledges."""
    return signer.submission(idempotency_key, [
        ("pledge.made", WHEN, payloads.pledge(PROGRAMME, f"{prefix}-{n}", amount(n))) for n in range(count)])


def open_programme(world) -> Signer:
    """Register a city and open the programme pledges go to; returns the city's signer."""
    city = world.register("pemkot-jakut", "city")
    world.ledger.submit(city.one("open-programme", "programme.opened", "2025-01-02T00:00:00Z",
                                 payloads.programme_opened(PROGRAMME, 2025)))
    return city


def observe(ledger) -> tuple:
    """What a reader of the log sees: its size and its latest signed checkpoint."""
    return ledger.size(), ledger.latest_checkpoint()


def leaf_hash_of(ledger, index: int) -> bytes:
    [(_, leaf)] = ledger.entries(index, 1)
    return merkle.leaf_hash(leaf)


# ---- the database underneath -----------------------------------------------------------------

@dataclass
class Database:
    """A raw connection to the ledger's database, bypassing the application."""

    connection: Any
    kind: str  # "sqlite" or "postgres"
    schema: str  # "" on SQLite

    def table(self, name: str) -> str:
        """Qualified name; "events" is the eventsourcing events table of this backend."""
        if name == "events":
            name = "stored_events" if self.kind == "sqlite" else "amanah_events"
        return name if self.kind == "sqlite" else f'"{self.schema}"."{name}"'

    def execute(self, statement: str, params: tuple = ()) -> Any:
        if self.kind == "postgres":
            statement = statement.replace("?", "%s")
        return self.connection.execute(statement, params)

    def allow_changes(self, name: str) -> None:
        """Remove the append-only guard of one table, as an attacker with database access would."""
        if self.kind == "sqlite":
            table = self.table(name)
            self.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_update")
            self.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_delete")
        else:
            self.execute(f"ALTER TABLE {self.table(name)} DISABLE TRIGGER ALL")

    def event_key(self, index: int) -> tuple:
        """(originator_id, originator_version) of the stored event behind log entry `index`."""
        row = self.execute(f"SELECT originator_id, originator_version FROM {self.table('log_entries')} "
                           "WHERE idx = ?", (index,)).fetchone()
        return row[0], row[1]

    def read_state(self, index: int) -> bytes:
        originator, version = self.event_key(index)
        cast = "::uuid" if self.kind == "postgres" else ""
        row = self.execute(f"SELECT state FROM {self.table('events')} WHERE originator_id = ?{cast} "
                           "AND originator_version = ?", (originator, version)).fetchone()
        return bytes(row[0])

    def write_state(self, index: int, state: bytes) -> None:
        originator, version = self.event_key(index)
        cast = "::uuid" if self.kind == "postgres" else ""
        self.execute(f"UPDATE {self.table('events')} SET state = ? WHERE originator_id = ?{cast} "
                     "AND originator_version = ?", (state, originator, version))

    def delete_entry(self, index: int) -> None:
        """Remove log entry `index` and its stored event (no other row is touched)."""
        originator, version = self.event_key(index)
        cast = "::uuid" if self.kind == "postgres" else ""
        for name in ("events", "log_entries"):
            self.allow_changes(name)
        self.execute(f"DELETE FROM {self.table('events')} WHERE originator_id = ?{cast} AND originator_version = ?",
                     (originator, version))
        self.execute(f"DELETE FROM {self.table('log_entries')} WHERE idx = ?", (index,))

    def shift_entries(self, first: int) -> None:
        """Move log entries `first` and later one place up, leaving a hole at `first`."""
        self.allow_changes("log_entries")
        table = self.table("log_entries")
        self.execute(f"UPDATE {table} SET idx = -idx - 2 WHERE idx >= ?", (first,))  # no clash on the way
        self.execute(f"UPDATE {table} SET idx = -idx - 1 WHERE idx < 0")

    def insert_entry(self, index: int, leaf: bytes, like: int) -> None:
        """Store `leaf` as log entry `index`, as a new event of the same kind as entry `like`."""
        originator, version = self.event_key(like)
        new_id = uuid.uuid4().hex
        cast = "::uuid" if self.kind == "postgres" else ""
        events = self.table("events")
        self.execute(f"INSERT INTO {events} (originator_id, originator_version, topic, state) "
                     f"SELECT ?{cast}, 1, topic, ? FROM {events} WHERE originator_id = ?{cast} "
                     "AND originator_version = ?", (new_id, leaf, originator, version))
        self.execute(f"INSERT INTO {self.table('log_entries')} (idx, originator_id, originator_version) "
                     "VALUES (?, ?, 1)", (index, new_id))


@contextmanager
def raw_database(database_url: str):
    """Connect straight to the database (autocommit), as someone with shell access could."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        database = Database(connection, "sqlite", "")
    else:
        base, _, query = database_url.partition("?")
        connection = psycopg.connect(base, autocommit=True)
        database = Database(connection, "postgres", query.removeprefix("schema="))
    try:
        yield database
    finally:
        connection.close()
