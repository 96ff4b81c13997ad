"""Application recorders that append to the transparency log inside the insert transaction,
and make the database itself refuse UPDATE and DELETE on events and log rows. This module holds
what both share and the SQLite recorder; the PostgreSQL one (which needs psycopg, from the
server extra) is in ledger/postgres_recorder.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

from ledger import log_schema, log_store, snapshot_store
from ledger.errors import StorageBusy, is_lock_timeout
from ledger.log_store import Dialect

T = TypeVar("T")
SQLITE = Dialect("sqlite", "?", lambda table: table, "BLOB", "INTEGER")
SCHEMA_LOCK = "amanah-log-schema"  # advisory lock name: one process at a time creates the log's tables


@contextmanager
def busy_is_named() -> Iterator[None]:
    """Turn a lock wait that timed out into StorageBusy (503 with Retry-After, not a 500)."""
    try:
        yield
    except Exception as error:
        if is_lock_timeout(error):
            raise StorageBusy("the database is busy with another writer; nothing was stored, send the "
                              "same request again") from error
        raise


class LogLayout:
    """What a recorder learns of its ledger's tables at its first append: the layout of
    log_entries, which ledgers created before this version laid out otherwise."""

    dialect: Dialect
    _entry_columns: tuple[str, ...] | None = None

    def _with_layout(self, cursor: Any, request: log_store.AppendRequest) -> log_store.AppendRequest:
        if self._entry_columns is None:
            self._entry_columns = log_store.entry_columns(cursor, self.dialect)
        request.entry_columns = self._entry_columns
        return request


class LedgerSQLiteRecorder(LogLayout, SQLiteApplicationRecorder):
    """SQLite: log tables beside `stored_events`, guarded by triggers."""

    dialect = SQLITE

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements += log_schema.create_statements(self.dialect) + snapshot_store.create_statements(self.dialect)
        for table in (self.events_table_name, *log_store.APPEND_ONLY_TABLES):
            for action in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_refuse_{action.lower()} "
                    f"BEFORE {action} ON {table} BEGIN "
                    f"SELECT RAISE(ABORT, 'amanah: {table} is append-only'); END"
                )
        return statements

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        with busy_is_named():
            return super().insert_events(stored_events, **kwargs)

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """The events in one executemany, then the log rows. eventsourcing inserts row by row to
        return each event's notification id (its rowid); nothing here reads eventsourcing's
        notification log (the log's own tables are the record), so none are returned."""
        log_store.insert_events(c, self.dialect, stored_events)
        log_store.append(c, self.dialect, stored_events, self._with_layout(c, kwargs["append_request"]))

    def read(self, query: Callable[[Any, Dialect], T]) -> T:
        """Run `query(cursor, dialect)` in a read transaction."""
        with busy_is_named(), self.datastore.transaction(commit=False) as cursor:
            return query(cursor, self.dialect)

    def write(self, command: Callable[[Any, Dialect], T]) -> T:
        """Run `command(cursor, dialect)` holding the write lock, as appends do."""
        with busy_is_named(), self.datastore.transaction(commit=True) as cursor:
            # A write first takes SQLite's write lock, so the reads that follow are current.
            cursor.execute("UPDATE log_checkpoints SET note = note WHERE 0")
            return command(cursor, self.dialect)


    def erase(self, command: Callable[[Any, Dialect], T]) -> tuple[T, None]:
        """Run a deletion with secure_delete on, so freed pages are overwritten with zeros."""
        with self.datastore.get_connection(commit=True) as connection:
            connection._sqlite_conn.execute("PRAGMA secure_delete=ON")
        return self.write(command), None

    def scrub(self, horizon: None = None) -> list[str]:
        """After an erasure: copy the WAL back into the database file and truncate it, so that the
        zeroed pages are the only copy left. Returns what prevented it (a reader still using an
        older snapshot of the WAL), or nothing when done."""
        with self.datastore.get_connection(commit=True) as connection:
            busy, _, _ = connection._sqlite_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return ["a reader of the SQLite database still uses an older snapshot, so the WAL could not be "
                "copied back and truncated"] if busy else []
