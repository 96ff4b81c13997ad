"""The transparency log's tables, for both databases (`Dialect` qualifies names and types; the
triggers that keep the append-only tables append-only come from the recorders)."""

from __future__ import annotations

from ledger import batch_store
from ledger.log_store import Dialect


def create_statements(dialect: Dialect) -> list[str]:
    """CREATE TABLE statements for the log (triggers come from the recorder)."""
    blob, bigint = dialect.blob_type, dialect.bigint_type
    return [
        # No index on (originator_id, originator_version): each row is written with the event it
        # points to, in one transaction, and nothing looks a row up by its event (such an index
        # cost ~90 B an entry on PostgreSQL). A row pointed at another entry's event is caught
        # by verification (the leaf states its own index). Ledgers created before keep theirs.
        # No recorded_at: the leaf holds the entry's time (ledgers created before keep the column,
        # log_store.entry_columns). The event's id as a uuid on PostgreSQL, hex text on SQLite.
        dialect.sql(
            "CREATE TABLE IF NOT EXISTS {log_entries} ("
            f"idx {bigint} PRIMARY KEY, originator_id {dialect.uuid_type} NOT NULL, "
            f"originator_version {bigint} NOT NULL)"
        ),
        dialect.sql(
            f"CREATE TABLE IF NOT EXISTS {{log_nodes}} (node_key {bigint} PRIMARY KEY, "
            f"hash {blob} NOT NULL)"
        ),
        # Leaf hashes in pieces of up to 16, none crossing a multiple of 16 (node_store.STORED_LEVEL):
        # log_nodes keeps only subtrees of 16 leaves and up.
        dialect.sql(
            f"CREATE TABLE IF NOT EXISTS {{log_leaves}} (first_index {bigint} PRIMARY KEY, "
            f"hashes {blob} NOT NULL)"
        ),
        dialect.sql(
            f"CREATE TABLE IF NOT EXISTS {{log_checkpoints}} (tree_size {bigint} PRIMARY KEY, "
            f"root {blob} NOT NULL, note TEXT NOT NULL, signed_at TEXT NOT NULL)"
        ),
        # Personal data is deliberately not append-only: erasure deletes the wrapped key (data_key
        # holds it wrapped under the KEK outside the database), the ciphertext and the index row.
        dialect.sql(
            f"CREATE TABLE IF NOT EXISTS {{person_keys}} (subject TEXT PRIMARY KEY, data_key {blob} NOT NULL)"
        ),
        dialect.sql(
            f"CREATE TABLE IF NOT EXISTS {{personal_data}} (subject TEXT PRIMARY KEY, nonce {blob} NOT NULL, "
            f"ciphertext {blob} NOT NULL)"
        ),
        dialect.sql(
            "CREATE TABLE IF NOT EXISTS {worker_index} (nik_digest TEXT PRIMARY KEY, "
            "worker TEXT NOT NULL UNIQUE)"
        ),
        dialect.sql(
            "CREATE TABLE IF NOT EXISTS {personal_kek} (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), "
            "kek_id TEXT NOT NULL)"
        ),
        dialect.sql(
            "CREATE TABLE IF NOT EXISTS {submissions} (actor TEXT NOT NULL, "
            "idempotency_key TEXT NOT NULL, digest TEXT NOT NULL, "
            f"first_index {bigint} NOT NULL, entry_count {bigint} NOT NULL, "
            "PRIMARY KEY (actor, idempotency_key))"
        ),
        batch_store.create_statement(dialect),
    ]
