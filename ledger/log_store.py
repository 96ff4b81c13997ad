"""The append step that runs inside the insert transaction, and the log's reads (its tables:
ledger/log_schema.py).

Written once for both databases: statements use `?` placeholders and each recorder supplies
a `Dialect` that rewrites them and knows its own table qualification and trigger syntax.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ledger import batch_store, merkle, node_store, personal_store, snapshot_store

APPEND_ONLY_TABLES = ("log_entries", "log_nodes", "log_leaves", "log_checkpoints", "submissions", "log_batches")
# A log entry's row points at its event; its time is in its leaf. Ledgers created before kept
# the time here too, and the id as text on PostgreSQL (about 45 B an entry more).
ENTRY_COLUMNS = ("idx", "originator_id", "originator_version")
OLD_ENTRY_COLUMNS = (*ENTRY_COLUMNS, "recorded_at")
PERSONAL_TABLES = ("person_keys", "personal_data", "worker_index", "personal_kek")


class LogPositionConflict(Exception):
    """Another writer appended first; the submission is rebuilt on the new tree and retried.

    An internal retry signal, not a LedgerError: no caller outside the append loop should see it,
    and an `except LedgerError` must never swallow it as a refusal."""


class Cursor(Protocol):
    def execute(self, statement: Any, params: Any = ...) -> Any: ...
    def executemany(self, statement: Any, params: Any) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> Any: ...


@dataclass(frozen=True)
class Dialect:
    """What differs between SQLite and PostgreSQL for our own tables."""

    name: str
    placeholder: str
    qualify: Callable[[str], str]
    blob_type: str
    bigint_type: str
    events_table: str = "stored_events"
    id_cast: str = ""  # how log_entries.originator_id compares with the events table
    uuid_type: str = "TEXT"  # log_entries.originator_id in new ledgers (hex text on SQLite)

    def sql(self, statement: str) -> str:
        """Rewrite `?` placeholders and `{table}` names for this database."""
        for table in (*APPEND_ONLY_TABLES, *PERSONAL_TABLES):
            statement = statement.replace("{" + table + "}", self.qualify(table))
        return statement.replace("?", self.placeholder)


@dataclass
class SubmissionRecord:
    """The idempotency row: who submitted what, and where it landed in the log."""

    actor: str
    idempotency_key: str
    digest: str
    first_index: int
    count: int


@dataclass
class AppendRequest:
    """What the application passes to the recorder with a submission's stored events."""

    submission: SubmissionRecord
    recorded_at: str
    personal: list = field(default_factory=list)  # SealedRecord, stored in the same transaction
    snapshots: list = field(default_factory=list)  # SnapshotRow of aggregates the events moved on, likewise
    sign_checkpoint: Callable[[int, bytes], str] | None = None
    checkpoint_every_entries: int = 1
    checkpoint_every_seconds: float = 0.0
    envelope_hashes: list = field(default_factory=list)  # a batch's envelope leaf hashes, as the submission computed them
    entry_columns: tuple = ENTRY_COLUMNS  # the ledger's log_entries layout: the recorder sets it (`entry_columns`)
    result: dict = field(default_factory=dict)


def entry_columns(cursor: Cursor, dialect: Dialect) -> tuple[str, ...]:
    """The columns of this ledger's log_entries: ENTRY_COLUMNS, or OLD_ENTRY_COLUMNS in a
    ledger created before (whose rows also held the entry's time, which its leaf holds)."""
    table = dialect.qualify("log_entries")
    if dialect.name == "postgres":
        cursor.execute("SELECT attname AS name FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                       "AND NOT attisdropped", (table,))
    else:
        cursor.execute("SELECT name FROM pragma_table_info(?)", (table,))
    names = {row["name"] for row in cursor.fetchall()}
    return OLD_ENTRY_COLUMNS if "recorded_at" in names else ENTRY_COLUMNS


def log_size(cursor: Cursor, dialect: Dialect) -> int:
    """Number of leaves in the log."""
    cursor.execute(dialect.sql("SELECT COALESCE(MAX(idx) + 1, 0) AS size FROM {log_entries}"))
    return int(cursor.fetchone()["size"])


def select_entries(cursor: Cursor, dialect: Dialect, start: int, stop: int) -> list[tuple[int, bytes]]:
    """(index, leaf bytes) for start <= index < stop, in order: the stored states, with batched
    lines stored compactly rebuilt into their exact leaves (ledger/batch_store.py)."""
    return batch_store.leaves(cursor, dialect, select_states(cursor, dialect, start, stop))


def select_states(cursor: Cursor, dialect: Dialect, start: int, stop: int) -> list[tuple[int, bytes]]:
    """(index, stored state) for start <= index < stop, in order, joined to the stored events."""
    cursor.execute(dialect.sql(
        f"SELECT l.idx AS idx, e.state AS state FROM {{log_entries}} l JOIN {dialect.events_table} e "
        f"ON e.originator_id = l.originator_id{dialect.id_cast} "
        "AND e.originator_version = l.originator_version "
        "WHERE l.idx >= ? AND l.idx < ? ORDER BY l.idx"), (start, stop))
    return [(int(row["idx"]), _as_bytes(row["state"])) for row in cursor.fetchall()]


def _as_bytes(value: Any) -> bytes:
    """Stored state as bytes, even if someone wrote text into the column."""
    return value.encode() if isinstance(value, str) else bytes(value)


def select_originators(cursor: Cursor, dialect: Dialect, start: int, stop: int) -> set[str]:
    """Ids of the aggregates that entries [start, stop) changed."""
    cursor.execute(dialect.sql("SELECT DISTINCT originator_id FROM {log_entries} WHERE idx >= ? AND idx < ?"),
                   (start, stop))
    return {str(row["originator_id"]) for row in cursor.fetchall()}


def select_events_for(cursor: Cursor, dialect: Dialect, originator_ids: Sequence[str]) -> list[tuple[str, int, str, bytes]]:
    """(originator id, version, topic, state) of every event of the given aggregates (ids as
    stored: hex on SQLite, uuid text on PostgreSQL), in version order per aggregate."""
    rows: list[tuple[str, int, str, bytes]] = []
    for start in range(0, len(originator_ids), 500):
        chunk = list(originator_ids[start:start + 500])
        if dialect.name == "postgres":
            cursor.execute(f"SELECT originator_id, originator_version, topic, state FROM {dialect.events_table} "
                           "WHERE originator_id = ANY(%s::uuid[]) ORDER BY originator_id, originator_version", (chunk,))
        else:
            marks = ",".join("?" * len(chunk))
            cursor.execute(f"SELECT originator_id, originator_version, topic, state FROM {dialect.events_table} "
                           f"WHERE originator_id IN ({marks}) ORDER BY originator_id, originator_version", chunk)
        rows += [(str(row["originator_id"]), int(row["originator_version"]), row["topic"], _as_bytes(row["state"]))
                 for row in cursor.fetchall()]
    return rows


def select_checkpoints(cursor: Cursor, dialect: Dialect, start_size: int = 0, limit: int = 1000) -> list[dict]:
    """Signed checkpoints with tree_size >= start_size, oldest first."""
    cursor.execute(dialect.sql(
        "SELECT tree_size, root, note, signed_at FROM {log_checkpoints} WHERE tree_size >= ? "
        "ORDER BY tree_size LIMIT ?"), (start_size, limit))
    return [{"tree_size": int(row["tree_size"]), "root": bytes(row["root"]), "note": row["note"],
             "signed_at": row["signed_at"]} for row in cursor.fetchall()]


def find_submission(cursor: Cursor, dialect: Dialect, actor: str, idempotency_key: str) -> SubmissionRecord | None:
    """The stored idempotency row for (actor, key), if any."""
    cursor.execute(dialect.sql(
        "SELECT actor, idempotency_key, digest, first_index, entry_count FROM {submissions} "
        "WHERE actor = ? AND idempotency_key = ?"), (actor, idempotency_key))
    row = cursor.fetchone()
    if row is None:
        return None
    return SubmissionRecord(row["actor"], row["idempotency_key"], row["digest"],
                            int(row["first_index"]), int(row["entry_count"]))


def latest_checkpoint(cursor: Cursor, dialect: Dialect) -> dict | None:
    """The newest signed checkpoint row, or None."""
    cursor.execute(dialect.sql(
        "SELECT tree_size, root, note, signed_at FROM {log_checkpoints} "
        "ORDER BY tree_size DESC LIMIT 1"
    ))
    row = cursor.fetchone()
    if row is None:
        return None
    return {"tree_size": int(row["tree_size"]), "root": bytes(row["root"]),
            "note": row["note"], "signed_at": row["signed_at"]}


def append(cursor: Cursor, dialect: Dialect, stored_events: Sequence[Any], request: AppendRequest) -> None:
    """Add the stored events as leaves, store completed subtrees, record the submission, and
    sign a checkpoint when due. Runs inside the transaction that inserted the events."""
    size = log_size(cursor, dialect)
    record = request.submission
    if size != record.first_index:
        raise LogPositionConflict(f"log grew to {size} while building at {record.first_index}")
    assert len(stored_events) == record.count, (len(stored_events), record.count)
    frontier = [(level, index, digest) for (level, index), digest in zip(
        merkle.frontier_keys(size), _frontier_hashes(cursor, dialect, size), strict=True)]
    entries = [event.entry for event in stored_events]  # the mapper's EntryStoredEvent
    leaf_hashes = [merkle.leaf_hash(entry.leaf) for entry in entries]
    nodes = merkle.append_nodes(frontier, size, leaf_hashes)
    if request.entry_columns == ENTRY_COLUMNS:
        uuid = dialect.uuid_type.lower() == "uuid"
        insert_rows(cursor, dialect, "log_entries", ENTRY_COLUMNS, ("bigint", "uuid" if uuid else "text", "bigint"),
                    [(size + offset, event.originator_id if uuid else event.originator_id.hex, event.originator_version)
                     for offset, event in enumerate(stored_events)])
    else:  # a ledger created before: the entry's time beside it, the id as text
        insert_rows(cursor, dialect, "log_entries", OLD_ENTRY_COLUMNS, ("bigint", "text", "bigint", "text"),
                    [(size + offset, event.originator_id.hex, event.originator_version, request.recorded_at)
                     for offset, event in enumerate(stored_events)])
    insert_rows(cursor, dialect, "log_nodes", ("node_key", "hash"), ("bigint", "bytea"),
                [(key, digest) for key, digest in nodes if key >> merkle.LEVEL_SHIFT >= node_store.STORED_LEVEL])
    insert_rows(cursor, dialect, "log_leaves", ("first_index", "hashes"), ("bigint", "bytea"),
                node_store.leaf_pieces(size, leaf_hashes))
    batch = batch_store.batch_row(entries, size, request.envelope_hashes)
    if batch is not None:
        insert_rows(cursor, dialect, "log_batches", batch_store.BATCH_COLUMNS, ("bigint", "bigint", "text", "text", "bytea"),
                    [batch])
    cursor.execute(
        dialect.sql("INSERT INTO {submissions} (actor, idempotency_key, digest, first_index, "
                    "entry_count) VALUES (?, ?, ?, ?, ?)"),
        (record.actor, record.idempotency_key, record.digest, record.first_index, record.count),
    )
    personal_store.store_personal(cursor, dialect, request.personal)
    snapshot_store.store(cursor, dialect, request.snapshots)
    new_size = size + len(stored_events)
    if request.sign_checkpoint and _checkpoint_due(cursor, dialect, new_size, request):
        root = merkle.fold([digest for _, _, digest in frontier])
        store_checkpoint(cursor, dialect, new_size, root, request.sign_checkpoint(new_size, root))


def insert_rows(cursor: Cursor, dialect: Dialect, table: str, columns: tuple[str, ...],
                postgres_types: tuple[str, ...], rows: Sequence[tuple]) -> None:
    """Insert many rows into one of our tables, or the events table (`dialect.events_table`).
    On PostgreSQL, one statement over arrays sent in binary: thousands of queued statements
    can stall a transaction, and text arrays cost a regular-expression escape per value (a
    second of a 11,860-line batch went there)."""
    if not rows:
        return
    names = ", ".join(columns)
    qualified = table if table == dialect.events_table else dialect.qualify(table)
    if dialect.name != "postgres":
        marks = ", ".join("?" * len(columns))
        cursor.executemany(f"INSERT INTO {qualified} ({names}) VALUES ({marks})", rows)
        return
    arrays = ", ".join(f"%s::{kind}[]" for kind in postgres_types)
    cursor.execute(f"INSERT INTO {qualified} ({names}) SELECT * FROM unnest({arrays})",
                   [list(column) for column in zip(*rows, strict=True)], binary=True)


def insert_events(cursor: Cursor, dialect: Dialect, stored_events: Sequence[Any]) -> None:
    """The events' rows in eventsourcing's table, in one statement (its own insert goes row by
    row on SQLite, and through text-encoded composite values on PostgreSQL)."""
    postgres = dialect.name == "postgres"
    insert_rows(cursor, dialect, dialect.events_table, ("originator_id", "originator_version", "topic", "state"),
                ("uuid", "bigint", "text", "bytea"),
                [(event.originator_id if postgres else event.originator_id.hex, event.originator_version,
                  event.topic, event.state) for event in stored_events])


def _frontier_hashes(cursor: Cursor, dialect: Dialect, size: int) -> list[bytes]:
    keys = [merkle.node_key(level, index) for level, index in merkle.frontier_keys(size)]
    stored = node_store.read_nodes(cursor, dialect, keys)
    return [stored[key] for key in keys]


def _checkpoint_due(cursor: Cursor, dialect: Dialect, new_size: int, request: AppendRequest) -> bool:
    latest = latest_checkpoint(cursor, dialect)
    if latest is None:
        return True
    if new_size - latest["tree_size"] >= request.checkpoint_every_entries:
        return True
    if request.checkpoint_every_seconds <= 0:
        return False
    age = datetime.now(UTC) - datetime.fromisoformat(latest["signed_at"])
    return age.total_seconds() >= request.checkpoint_every_seconds


def store_checkpoint(cursor: Cursor, dialect: Dialect, size: int, root: bytes, note: str) -> None:
    """Keep a signed checkpoint; the primary key on size refuses a second, different one."""
    signed_at = datetime.now(UTC).isoformat()
    cursor.execute(
        dialect.sql("INSERT INTO {log_checkpoints} (tree_size, root, note, signed_at) VALUES (?, ?, ?, ?)"),
        (size, root, note, signed_at),
    )


def submission_digest(signed_bytes: Sequence[bytes]) -> str:
    """What identifies a submission's content: SHA-256 over its envelopes' canonical bytes and
    signature, so a retry with the same key but other content is told apart."""
    digest = hashlib.sha256()
    for part in signed_bytes:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()
