"""The cosignatures the ledger collected, in a table beside the log (not part of it).

A cosignature is kept per (tree size, witness key); rows are only ever inserted. Reading a
checkpoint with its cosignatures appends their lines to the log's signed note, which stays a
valid signed note (c2sp.org/signed-note: verifiers ignore lines from keys they do not know).
"""

from __future__ import annotations

import weakref
from datetime import UTC, datetime
from typing import Any

from ledger.recorders import SCHEMA_LOCK
from ledger.witness import with_signature_lines

TABLE = "witness_cosignatures"
_ready: weakref.WeakSet = weakref.WeakSet()  # recorders whose table exists


def _run(ledger: Any, command, commit: bool) -> Any:
    recorder = ledger.recorder
    dialect = recorder.dialect
    table = dialect.qualify(TABLE)
    with recorder.datastore.transaction(commit=True) as cursor:
        if recorder not in _ready:
            if dialect.name == "postgres":  # server workers start together: concurrent CREATEs collide
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [SCHEMA_LOCK])
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (tree_size {dialect.bigint_type} NOT NULL, "
                f"witness_key TEXT NOT NULL, root {dialect.blob_type} NOT NULL, cosignature TEXT NOT NULL, "
                f"cosigned_at {dialect.bigint_type} NOT NULL, received_at TEXT NOT NULL, "
                "PRIMARY KEY (tree_size, witness_key))")
    _ready.add(recorder)
    with recorder.datastore.transaction(commit=commit) as cursor:
        return command(cursor, lambda sql: dialect.sql(sql.replace("{table}", table)))


def store_cosignature(ledger: Any, tree_size: int, root: bytes, witness_key: str, cosigned_at: int,
                      line: str) -> None:
    """Keep one witness's cosignature of the checkpoint of `tree_size` (a repeat is ignored)."""
    received_at = datetime.now(UTC).isoformat()

    def insert(cursor, sql):
        cursor.execute(sql("INSERT INTO {table} (tree_size, witness_key, root, cosignature, cosigned_at, "
                           "received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
                       (tree_size, witness_key, root, line, cosigned_at, received_at))

    _run(ledger, insert, commit=True)


def witness_sizes(ledger: Any) -> dict[str, int]:
    """The largest tree size each witness cosigned for this ledger."""
    def query(cursor, sql):
        cursor.execute(sql("SELECT witness_key, MAX(tree_size) AS size FROM {table} GROUP BY witness_key"))
        return {row["witness_key"]: int(row["size"]) for row in cursor.fetchall()}

    return _run(ledger, query, commit=False)


def cosignatures(ledger: Any, start_size: int, stop_size: int) -> dict[int, list[dict]]:
    """Cosignatures of the checkpoints with start_size <= tree size < stop_size, by tree size."""
    def query(cursor, sql):
        cursor.execute(sql("SELECT tree_size, witness_key, cosignature, cosigned_at FROM {table} "
                           "WHERE tree_size >= ? AND tree_size < ? ORDER BY tree_size, witness_key"),
                       (start_size, stop_size))
        found: dict[int, list[dict]] = {}
        for row in cursor.fetchall():
            found.setdefault(int(row["tree_size"]), []).append({
                "witness": row["witness_key"].split("+", 1)[0], "verifier_key": row["witness_key"],
                "cosigned_at": _iso(int(row["cosigned_at"])), "line": row["cosignature"]})
        return found

    return _run(ledger, query, commit=False)


def cosigned(ledger: Any, checkpoint: dict | None) -> dict | None:
    """The checkpoint (JSON values) with its cosignature lines appended to the note and listed in
    "cosignatures"; None stays None."""
    if checkpoint is None:
        return None
    found = cosignatures(ledger, checkpoint["tree_size"], checkpoint["tree_size"] + 1).get(
        checkpoint["tree_size"], [])
    return {**checkpoint, "note": with_signature_lines(checkpoint["note"], [item["line"] for item in found]),
            "cosignatures": [{key: item[key] for key in ("witness", "verifier_key", "cosigned_at")}
                             for item in found]}


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def cosigned_history_jsonl(ledger: Any, checkpoints: list[dict]) -> bytes:
    """The bundle's cosignatures.jsonl: each cosigned checkpoint, oldest first, as its note with
    the cosignature lines appended (a checkpoint no witness cosigned has no line)."""
    import json

    if not checkpoints:
        return b""
    found = cosignatures(ledger, 0, checkpoints[-1]["tree_size"] + 1)
    lines = []
    for checkpoint in checkpoints:
        items = found.get(checkpoint["tree_size"])
        if items:
            lines.append(json.dumps({
                "tree_size": checkpoint["tree_size"], "root": checkpoint["root"],
                "note": with_signature_lines(checkpoint["note"], [item["line"] for item in items]),
                "cosignatures": [{key: item[key] for key in ("witness", "verifier_key", "cosigned_at")}
                                 for item in items]}, sort_keys=True).encode() + b"\n")
    return b"".join(lines)
