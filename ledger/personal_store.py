"""The tables beside the log that hold personal data: wrapped per-person keys, sealed records, the
NIK index and the identifier of the key-encryption key. Deliberately not append-only: erasure
deletes from them. Statements are written once for both databases, as in log_store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ledger import log_store  # a cycle by design: log_store.append stores these rows; names are read at call time

if TYPE_CHECKING:
    from ledger.log_store import Cursor, Dialect


def store_personal(cursor: Cursor, dialect: Dialect, records: Sequence[Any]) -> None:
    """Sealed personal records, their wrapped keys and their index rows; a subject stored before
    (enrolled again in a later programme, or after a reversal) gets the new record and key, the
    old ones destroyed. Runs under the appends' lock, so what was checked before is rechecked
    here: a KEK rotated or an index row taken meanwhile sends the submission round again."""
    if not records:
        return
    stored_kek = read_kek_id(cursor, dialect)
    if stored_kek is None:
        cursor.execute(dialect.sql("INSERT INTO {personal_kek} (singleton, kek_id) VALUES (1, ?)"),
                       (records[0].kek_id,))
    elif any(record.kek_id != stored_kek for record in records):
        raise log_store.LogPositionConflict("the key-encryption key was rotated while this submission was sealed")
    index_workers(cursor, dialect, [record.indexed for record in records if record.indexed is not None])
    for record in records:
        cursor.execute(dialect.sql("DELETE FROM {person_keys} WHERE subject = ?"), (record.subject,))
        cursor.execute(dialect.sql("DELETE FROM {personal_data} WHERE subject = ?"), (record.subject,))
    log_store.insert_rows(cursor, dialect, "person_keys", ("subject", "data_key"), ("text", "bytea"),
                [(record.subject, record.wrapped_key) for record in records])
    log_store.insert_rows(cursor, dialect, "personal_data", ("subject", "nonce", "ciphertext"), ("text", "bytea", "bytea"),
                [(record.subject, record.nonce, record.ciphertext) for record in records])


def index_workers(cursor: Cursor, dialect: Dialect, pairs: Sequence[tuple[str, str]]) -> None:
    """Index each (NIK digest, worker reference) not indexed yet; a digest or reference indexed
    with another meanwhile sends the submission round again (it is then refused with a reason)."""
    existing = select_index_rows(cursor, dialect, [digest for digest, _ in pairs], [worker for _, worker in pairs])
    by_digest = dict(existing)
    by_worker = {worker: digest for digest, worker in existing}
    new = []
    for digest, worker in dict.fromkeys(pairs):
        if by_digest.get(digest, worker) != worker or by_worker.get(worker, digest) != digest:
            raise log_store.LogPositionConflict("the NIK or the reference was indexed by another submission meanwhile")
        if digest not in by_digest:
            new.append((digest, worker))
            by_digest[digest], by_worker[worker] = worker, digest
    log_store.insert_rows(cursor, dialect, "worker_index", ("nik_digest", "worker"), ("text", "text"), new)


def select_index_rows(cursor: Cursor, dialect: Dialect, digests: Sequence[str],
                      workers: Sequence[str]) -> list[tuple[str, str]]:
    """(NIK digest, worker reference) index rows naming any of the digests or workers."""
    rows: list[tuple[str, str]] = []
    for start in range(0, max(len(digests), len(workers)), 400):
        some_digests, some_workers = list(digests[start:start + 400]), list(workers[start:start + 400])
        if dialect.name == "postgres":
            cursor.execute(dialect.sql("SELECT nik_digest, worker FROM {worker_index} "
                                       "WHERE nik_digest = ANY(?) OR worker = ANY(?)"), (some_digests, some_workers))
        else:
            digest_marks, worker_marks = ",".join("?" * len(some_digests)), ",".join("?" * len(some_workers))
            cursor.execute(dialect.sql(f"SELECT nik_digest, worker FROM {{worker_index}} WHERE nik_digest IN "
                                       f"({digest_marks}) OR worker IN ({worker_marks})"), some_digests + some_workers)
        rows += [(str(row["nik_digest"]), str(row["worker"])) for row in cursor.fetchall()]
    return rows


def find_indexed_worker(cursor: Cursor, dialect: Dialect, nik_digest: str) -> str | None:
    """The worker reference indexed under a NIK digest, if any."""
    cursor.execute(dialect.sql("SELECT worker FROM {worker_index} WHERE nik_digest = ?"), (nik_digest,))
    row = cursor.fetchone()
    return None if row is None else str(row["worker"])


def find_indexed_digest(cursor: Cursor, dialect: Dialect, worker: str) -> str | None:
    """The NIK digest a worker reference is indexed with, if any."""
    cursor.execute(dialect.sql("SELECT nik_digest FROM {worker_index} WHERE worker = ?"), (worker,))
    row = cursor.fetchone()
    return None if row is None else str(row["nik_digest"])


def select_worker_index(cursor: Cursor, dialect: Dialect) -> dict[str, str]:
    """Every index row, worker reference -> NIK digest (for `verify --db`)."""
    cursor.execute(dialect.sql("SELECT nik_digest, worker FROM {worker_index}"))
    return {str(row["worker"]): str(row["nik_digest"]) for row in cursor.fetchall()}


def read_kek_id(cursor: Cursor, dialect: Dialect) -> str | None:
    """The identifier of the KEK the stored keys are wrapped with, or None before the first."""
    cursor.execute(dialect.sql("SELECT kek_id FROM {personal_kek} WHERE singleton = 1"))
    row = cursor.fetchone()
    return None if row is None else str(row["kek_id"])


def select_person_keys(cursor: Cursor, dialect: Dialect) -> list[tuple[str, bytes]]:
    """(subject, wrapped key) of every stored key, for a KEK rotation."""
    cursor.execute(dialect.sql("SELECT subject, data_key FROM {person_keys} ORDER BY subject"))
    return [(str(row["subject"]), bytes(row["data_key"])) for row in cursor.fetchall()]


def replace_person_keys(cursor: Cursor, dialect: Dialect, rows: Sequence[tuple[str, bytes]], kek_id: str) -> None:
    """Store rewrapped keys and the identifier of the KEK that wraps them now."""
    for subject, wrapped in rows:
        cursor.execute(dialect.sql("UPDATE {person_keys} SET data_key = ? WHERE subject = ?"), (wrapped, subject))
    cursor.execute(dialect.sql("DELETE FROM {personal_kek}"))
    cursor.execute(dialect.sql("INSERT INTO {personal_kek} (singleton, kek_id) VALUES (1, ?)"), (kek_id,))


def read_personal(cursor: Cursor, dialect: Dialect, subject: str) -> tuple[bytes, bytes, bytes] | None:
    """(wrapped key, nonce, ciphertext) of a subject, or None once erased."""
    cursor.execute(dialect.sql(
        "SELECT k.data_key AS data_key, p.nonce AS nonce, p.ciphertext AS ciphertext FROM {person_keys} k "
        "JOIN {personal_data} p ON p.subject = k.subject WHERE k.subject = ?"), (subject,))
    row = cursor.fetchone()
    return None if row is None else (bytes(row["data_key"]), bytes(row["nonce"]), bytes(row["ciphertext"]))


def select_personal(cursor: Cursor, dialect: Dialect, after: str, limit: int) -> list[tuple]:
    """(subject, wrapped key, nonce, ciphertext) of stored personal records with subject > `after`,
    in subject order; nonce and ciphertext are None where a key has lost its record."""
    cursor.execute(dialect.sql(
        "SELECT k.subject AS subject, k.data_key AS data_key, p.nonce AS nonce, p.ciphertext AS ciphertext "
        "FROM {person_keys} k LEFT JOIN {personal_data} p ON p.subject = k.subject WHERE k.subject > ? "
        "ORDER BY k.subject LIMIT ?"), (after, limit))
    return [(row["subject"], bytes(row["data_key"]), None if row["nonce"] is None else bytes(row["nonce"]),
             None if row["ciphertext"] is None else bytes(row["ciphertext"])) for row in cursor.fetchall()]


def erase_personal(cursor: Cursor, dialect: Dialect, subject: str) -> bool:
    """Destroy a subject's wrapped key, ciphertext and (for a worker) index row, so that nothing
    ties the worker reference to a person any more; False if there was nothing to erase."""
    worker = subject.removeprefix("worker:") if subject.startswith("worker:") else None
    existed = read_personal(cursor, dialect, subject) is not None or (
        worker is not None and find_indexed_digest(cursor, dialect, worker) is not None)
    cursor.execute(dialect.sql("DELETE FROM {person_keys} WHERE subject = ?"), (subject,))
    cursor.execute(dialect.sql("DELETE FROM {personal_data} WHERE subject = ?"), (subject,))
    if worker is not None:
        cursor.execute(dialect.sql("DELETE FROM {worker_index} WHERE worker = ?"), (worker,))
    return existed
