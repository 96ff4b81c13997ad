"""A witness's own SQLite file: the latest checkpoint cosigned per log, and evidence of forks.

Each update checks and stores in one `BEGIN IMMEDIATE` transaction with `synchronous=FULL`, and
commits before the witness answers, so a witness killed at any moment restarts at a size at least
as large as any it cosigned, and two concurrent requests cannot roll the state back.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ledger.witness import AddCheckpoint, Seen, add_checkpoint_body

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS latest (origin TEXT PRIMARY KEY, size INTEGER NOT NULL, "
    "root BLOB NOT NULL, note TEXT NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS evidence (id INTEGER PRIMARY KEY, origin TEXT NOT NULL, "
    "reason TEXT NOT NULL, cosigned_note TEXT NOT NULL, offered_request TEXT NOT NULL, "
    "recorded_at TEXT NOT NULL)",
    # Evidence is kept for good: the database refuses to change or delete it.
    "CREATE TRIGGER IF NOT EXISTS evidence_refuse_update BEFORE UPDATE ON evidence "
    "BEGIN SELECT RAISE(ABORT, 'witness evidence is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS evidence_refuse_delete BEFORE DELETE ON evidence "
    "BEGIN SELECT RAISE(ABORT, 'witness evidence is append-only'); END",
)


class SQLiteWitnessState:
    """The witness state in one SQLite file (one connection, serialised by a lock)."""

    def __init__(self, path: Path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=FULL")
        for statement in SCHEMA:
            self.connection.execute(statement)
        self.lock = threading.Lock()

    def update(self, origin: str, decide: Callable[[Seen | None], Seen]) -> Seen:
        """Read the latest state of `origin`, decide, store; all or nothing, durable on return."""
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                seen = self._latest(origin)
                new = decide(seen)
                if seen is None or (new.size, new.root) != (seen.size, seen.root):
                    self.connection.execute(
                        "INSERT INTO latest (origin, size, root, note, updated_at) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
                        "note = excluded.note, updated_at = excluded.updated_at",
                        (origin, new.size, new.root, new.note_text, _now()))
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")
            return new

    def record_evidence(self, origin: str, reason: str, seen: Seen, offered: AddCheckpoint) -> None:
        """Keep both signed checkpoints: the one cosigned and the request that contradicts it."""
        with self.lock:
            self.connection.execute(
                "INSERT INTO evidence (origin, reason, cosigned_note, offered_request, recorded_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (origin, reason, seen.note_text,
                 add_checkpoint_body(offered.old_size, offered.proof, offered.note_text).decode(), _now()))

    def latest(self, origin: str) -> Seen | None:
        """The latest checkpoint cosigned for `origin`."""
        with self.lock:
            return self._latest(origin)

    def _latest(self, origin: str) -> Seen | None:
        row = self.connection.execute("SELECT size, root, note FROM latest WHERE origin = ?", (origin,)).fetchone()
        return None if row is None else Seen(int(row[0]), bytes(row[1]), row[2])

    def evidence(self, limit: int = 100) -> list[dict]:
        """Recorded evidence of inconsistent checkpoints, newest first."""
        with self.lock:
            rows = self.connection.execute(
                "SELECT id, origin, reason, cosigned_note, offered_request, recorded_at FROM evidence "
                "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [{"id": row[0], "origin": row[1], "reason": row[2], "cosigned_note": row[3],
                 "offered_request": row[4], "recorded_at": row[5]} for row in rows]

    def close(self) -> None:
        self.connection.close()


def _now() -> str:
    return datetime.now(UTC).isoformat()
