"""The log's own rows on SQLite and PostgreSQL.

`log_nodes` keeps subtrees of 16 leaves and up, `log_leaves` the leaf hashes in pieces that never
cross a multiple of 16, and every smaller subtree is folded from them on read; a row of
`log_entries` holds only the entry's index and its event (ledger/log_store.py). Ledgers written
before, with every level in `log_nodes` or with the entry's time and a text id in
`log_entries`, read, prove and verify the same, and go on growing.

The `log` fixture (tests/integration/conftest.py) holds 16 entries, a batch of six at 5..10.
"""

from __future__ import annotations

import base64

import pytest

from ledger import merkle, node_store
from ledger.bundle import export_bundle, verify_bundle, verify_database
from tests.integration.support import pledge, pledge_batch, raw_database
from tests.integration.test_compact_storage import observed


def stored_rows(database) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """(log_nodes by key, log_leaves pieces by first index) as stored."""
    nodes = {int(key): bytes(digest) for key, digest in
             database.execute(f"SELECT node_key, hash FROM {database.table('log_nodes')}").fetchall()}
    pieces = {int(first): bytes(hashes) for first, hashes in
              database.execute(f"SELECT first_index, hashes FROM {database.table('log_leaves')}").fetchall()}
    return nodes, pieces


def all_nodes(ledger) -> list[tuple[int, bytes]]:
    """Every perfect node of the ledger's tree, recomputed from its leaves."""
    leaves = [merkle.leaf_hash(leaf) for _, leaf in ledger.entries(0, ledger.size())]
    return merkle.append_nodes([], 0, leaves)


def test_only_subtrees_of_16_leaves_and_up_are_stored_and_leaf_hashes_in_pieces(log):
    log.ledger.submit(pledge_batch(log.second, "crossing", 20, prefix="c"))  # entries 16..35
    log.ledger.submit(pledge(log.second, "single", "single"))  # entry 36
    with raw_database(log.settings.database_url) as database:
        nodes, pieces = stored_rows(database)
    expected = dict(all_nodes(log.ledger))
    assert nodes == {key: digest for key, digest in expected.items() if key >> merkle.LEVEL_SHIFT >= 4}
    assert sorted(nodes) == [merkle.node_key(4, 0), merkle.node_key(4, 1), merkle.node_key(5, 0)]
    # One piece per submission, split where a 16-leaf block ends: never across a multiple of 16.
    sizes = sorted((first, len(hashes) // 32) for first, hashes in pieces.items())
    assert all(first // 16 == (first + count - 1) // 16 for first, count in sizes)
    assert (5, 6) in sizes and [piece for piece in sizes if piece[0] >= 16] == [(16, 16), (32, 4), (36, 1)]
    leaves = [merkle.leaf_hash(leaf) for _, leaf in log.ledger.entries(0, log.ledger.size())]
    assert b"".join(pieces[first] for first in sorted(pieces)) == b"".join(leaves)


def test_every_subtree_read_back_equals_the_one_recomputed_from_the_leaves(log):
    log.ledger.submit(pledge_batch(log.second, "crossing", 21, prefix="c"))  # entries 16..36
    expected = all_nodes(log.ledger)
    read = log.ledger.recorder.read(lambda c, d: node_store.read_nodes(c, d, [key for key, _ in expected]))
    assert read == dict(expected)
    size = log.ledger.size()
    root = log.ledger.root(size)
    assert root == merkle.root_of([merkle.leaf_hash(leaf) for _, leaf in log.ledger.entries(0, size)])
    for index in range(size):
        proof = log.ledger.inclusion_proof(index, size)
        leaf = log.ledger.entries(index, 1)[0][1]
        assert merkle.verify_inclusion(merkle.leaf_hash(leaf), index, size,
                                       [base64.b64decode(h) for h in proof["proof"]], root)


def store_every_level(database, ledger) -> None:
    """Turn the database into one written before log_leaves: every level in log_nodes."""
    nodes, _ = stored_rows(database)
    table = database.table("log_nodes")
    for key, digest in all_nodes(ledger):
        if key not in nodes:
            database.execute(f"INSERT INTO {table} (node_key, hash) VALUES (?, ?)", (key, digest))
    database.allow_changes("log_leaves")
    database.execute(f"DELETE FROM {database.table('log_leaves')}")


def test_a_ledger_with_every_level_in_log_nodes_reads_proves_verifies_and_grows_the_same(log, tmp_path):
    log.ledger.submit(pledge(log.second, "seventeenth", "seventeenth"))  # a block begun: entry 16
    before = observed(log.ledger, tmp_path / "new")
    with raw_database(log.settings.database_url) as database:
        store_every_level(database, log.ledger)
        assert stored_rows(database)[1] == {}
    reopened = log.reopen()
    try:
        assert observed(reopened, tmp_path / "old") == before
        assert verify_database(reopened).ok
        # Growing it: the block begun in the old layout (entry 16) is finished in the new one.
        reopened.submit(pledge_batch(log.second, "after-old-layout", 20, prefix="n"))  # 17..36
        reopened.submit(pledge(log.second, "single-after-old-layout", "single-after-old-layout"))
        with raw_database(log.settings.database_url) as database:
            _, pieces = stored_rows(database)
        assert sorted(pieces) == [17, 32, 37]
        size = reopened.size()
        expected = all_nodes(reopened)
        assert reopened.recorder.read(lambda c, d: node_store.read_nodes(c, d, [k for k, _ in expected])) == dict(expected)
        assert reopened.root(size) == merkle.root_of([merkle.leaf_hash(leaf) for _, leaf in reopened.entries(0, size)])
        assert verify_database(reopened).ok
        export_bundle(reopened, tmp_path / "mixed")
        assert verify_bundle(tmp_path / "mixed").ok
    finally:
        reopened.close()


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_a_subtree_below_16_leaves_whose_leaf_hash_is_gone_is_not_made_up(log, level):
    """A piece deleted underneath: the nodes over it are missing (verification names them),
    never folded from what is left."""
    with raw_database(log.settings.database_url) as database:
        database.allow_changes("log_leaves")
        database.execute(f"DELETE FROM {database.table('log_leaves')} WHERE first_index = 5")  # the batch, 5..10
    index = 5 >> level
    key = merkle.node_key(level, index)
    read = log.ledger.recorder.read(lambda c, d: node_store.read_nodes(c, d, [key, merkle.node_key(0, 4)]))
    assert key not in read and merkle.node_key(0, 4) in read
    report = verify_database(log.ledger)
    assert not report.ok and (5, "subtree") in {(failure.index, failure.check) for failure in report.failures}


def store_old_entry_rows(database) -> None:
    """Turn log_entries into the layout of ledgers created before: the entry's time beside it,
    the event's id as hex text."""
    table = database.table("log_entries")
    old_id = "replace(CAST(originator_id AS TEXT), '-', '')" if database.kind == "postgres" else "originator_id"
    database.execute(f"ALTER TABLE {table} RENAME TO log_entries_new")
    database.execute(f"CREATE TABLE {table} (idx BIGINT PRIMARY KEY, originator_id TEXT NOT NULL, "
                     "originator_version BIGINT NOT NULL, recorded_at TEXT NOT NULL)")
    database.execute(f"INSERT INTO {table} SELECT idx, {old_id}, originator_version, '2025-01-01T00:00:00Z' "
                     f"FROM {table.replace('log_entries', 'log_entries_new')}")
    database.execute(f"DROP TABLE {table.replace('log_entries', 'log_entries_new')}")


def test_a_ledger_whose_log_entries_hold_times_and_text_ids_reads_verifies_and_grows_the_same(log, tmp_path):
    before = observed(log.ledger, tmp_path / "new")
    with raw_database(log.settings.database_url) as database:
        store_old_entry_rows(database)
    reopened = log.reopen()
    try:
        assert observed(reopened, tmp_path / "old") == before
        first = reopened.submit(pledge_batch(log.second, "after-old-rows", 3, prefix="n"))["first_index"]
        reopened.submit(pledge(log.second, "single-after-old-rows", "single-after-old-rows"))
        with raw_database(log.settings.database_url) as database:
            rows = database.execute(f"SELECT idx, originator_id, recorded_at FROM {database.table('log_entries')} "
                                    "WHERE idx >= ? ORDER BY idx", (first,)).fetchall()
        assert [int(row[0]) for row in rows] == [first, first + 1, first + 2, first + 3]
        assert all(len(row[1]) == 32 and row[2] for row in rows)  # written in the ledger's own layout
        assert verify_database(reopened).ok
        export_bundle(reopened, tmp_path / "grown")
        assert verify_bundle(tmp_path / "grown").ok
    finally:
        reopened.close()


def test_a_new_ledgers_log_entries_hold_only_the_index_and_the_event(log):
    with raw_database(log.settings.database_url) as database:
        row = database.execute(f"SELECT * FROM {database.table('log_entries')} WHERE idx = 0").fetchone()
    assert len(row) == 3
