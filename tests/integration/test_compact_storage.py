"""Batched lines are stored without what their submission's lines share (ledger/batch_store.py),
on SQLite and PostgreSQL; ledgers written before, with every leaf stored whole, read, export,
prove and verify exactly as they did.

The `log` fixture (tests/integration/conftest.py) holds a batch of six pledges at entries 5..10.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger import batch_store, merkle
from ledger.bundle import export_bundle, verify_bundle, verify_database
from ledger.canonical import canonical_bytes
from ledger.entry import StoredLine, envelope_span, parse_entry
from tests.integration.forgery import BATCH_FIRST, SIZE
from tests.integration.support import pledge, pledge_batch, raw_database

BATCH = range(BATCH_FIRST, BATCH_FIRST + 6)


def observed(ledger, directory: Path) -> dict:
    """What a reader of the ledger sees: every leaf, proofs, and the bytes of both bundle formats
    (the manifest's export time aside)."""
    size = ledger.size()
    seen = {"entries": ledger.entries(0, size), "root": ledger.root(size),
            "inclusion": [ledger.inclusion_proof(index, size) for index in range(size)],
            "consistency": [ledger.consistency_proof(first, size) for first in range(1, size + 1)]}
    for bundle_format in (1, 2):
        bundle = directory / f"format-{bundle_format}"
        export_bundle(ledger, bundle, bundle_format=bundle_format)
        assert verify_bundle(bundle).ok
        for path in sorted(bundle.iterdir()):
            content = json.loads(path.read_bytes()) if path.name == "manifest.json" else path.read_bytes()
            if path.name == "manifest.json":
                content.pop("exported_at", None)
            seen[f"{bundle_format}/{path.name}"] = content
    return seen


def store_whole_leaves(database, ledger) -> None:
    """Turn the database into one written before lines were stored compactly: every state the
    whole leaf, no batch rows."""
    database.allow_changes("events")
    for index, leaf in ledger.entries(0, ledger.size()):
        if database.read_state(index) != leaf:
            database.write_state(index, leaf)
    database.allow_changes("log_batches")
    database.execute(f"DELETE FROM {database.table('log_batches')}")


def test_a_batched_line_is_stored_without_what_its_batch_shares(log):
    with raw_database(log.settings.database_url) as database:
        states = {index: database.read_state(index) for index in range(SIZE)}
        rows = database.execute(f"SELECT first_index, entry_count FROM {database.table('log_batches')}").fetchall()
    leaves = dict(log.ledger.entries(0, SIZE))
    for index in range(SIZE):
        if index in BATCH:
            assert states[index].startswith(b'{"line":{"envelope":')
            assert len(states[index]) < len(leaves[index]) - 200
            assert b'"signature"' not in states[index] and b'"batch":{' not in states[index]
        else:
            assert states[index] == leaves[index]  # a single envelope is stored whole
    assert [tuple(row) for row in rows] == [(BATCH_FIRST, 6)]


def test_the_batch_row_holds_each_envelopes_hash_as_its_leaf_holds_it(log):
    """The writer stores the envelope hashes its submission computed for the batch root: they
    must be the hashes of the envelopes as each stored leaf holds them."""
    with raw_database(log.settings.database_url) as database:
        [row] = database.execute(f"SELECT leaf_hashes FROM {database.table('log_batches')}").fetchall()
    stored = bytes(row[0])
    expected = b"".join(merkle.leaf_hash(envelope_span(leaf, index)) for index, leaf in log.ledger.entries(BATCH_FIRST, 6))
    assert stored == expected and len(stored) == 6 * 32


def test_the_writer_replays_a_compact_line_without_its_leaf(log):
    [(_, leaf)] = log.ledger.entries(BATCH_FIRST + 2, 1)
    with raw_database(log.settings.database_url) as database:
        entry = parse_entry(database.read_state(BATCH_FIRST + 2))
    whole = json.loads(leaf)
    assert isinstance(entry, StoredLine)
    assert (entry.index, entry.recorded_at, entry.envelope) == (whole["index"], whole["recorded_at"], whole["envelope"])
    with pytest.raises(AttributeError, match="Ledger.entries"):
        entry.leaf  # noqa: B018


def test_a_ledger_of_whole_leaves_reads_exports_proves_and_verifies_the_same(log, tmp_path):
    before = observed(log.ledger, tmp_path / "compact")
    with raw_database(log.settings.database_url) as database:
        store_whole_leaves(database, log.ledger)
    reopened = log.reopen()
    try:
        assert observed(reopened, tmp_path / "whole") == before
        assert verify_database(reopened).ok
        # New submissions on top of the old rows (by the key in force) are stored compactly.
        first = reopened.submit(pledge_batch(log.second, "after-old-rows", 3, prefix="n"))["first_index"]
        reopened.submit(pledge(log.second, "single-after-old-rows", "single-after-old-rows"))
        with raw_database(log.settings.database_url) as database:
            assert database.read_state(first).startswith(b'{"line":')
        assert verify_database(reopened).ok
        export_bundle(reopened, tmp_path / "mixed")
        assert verify_bundle(tmp_path / "mixed").ok
    finally:
        reopened.close()


def test_a_ledger_written_with_whole_leaves_verifies(opened, tmp_path, monkeypatch):
    """Written by the old path (whole leaves, no batch rows), then by the new one."""
    monkeypatch.setattr("ledger.mapper.compact_state", lambda entry: entry.leaf)
    monkeypatch.setattr(batch_store, "batch_row", lambda *arguments: None)
    old = opened.ledger.submit(pledge_batch(opened.company, "old-batch", 5))
    monkeypatch.undo()
    new = opened.ledger.submit(pledge_batch(opened.company, "new-batch", 5, prefix="n"))
    with raw_database(opened.settings.database_url) as database:
        assert database.read_state(old["first_index"]).startswith(b'{"batch":')
        assert database.read_state(new["first_index"]).startswith(b'{"line":')
    for index, leaf in opened.ledger.entries(0, opened.ledger.size()):
        assert canonical_bytes(json.loads(leaf)) == leaf and json.loads(leaf)["index"] == index
    assert verify_database(opened.ledger).ok
    export_bundle(opened.ledger, tmp_path / "bundle")
    assert verify_bundle(tmp_path / "bundle").ok


def test_a_page_inside_a_batch_rebuilds_the_same_leaves(log):
    whole = log.ledger.entries(0, SIZE)
    batch_store.PATHS.__init__()  # nothing cached: the batch row alone rebuilds each line
    assert [log.ledger.entries(index, 1)[0] for index in range(SIZE)] == whole


def test_the_views_replay_the_stored_states_without_rebuilding_audit_paths(log, monkeypatch):
    """What the views and the rules read (`replayable`) is every entry's index, time and envelope,
    as the signed leaves say, from the stored states: no batch tree is built for it, and it is
    the same on a ledger of whole leaves."""
    def expected() -> list[tuple]:
        leaves = [json.loads(leaf) for _, leaf in log.ledger.entries(0, SIZE)]
        return [(leaf["index"], leaf["recorded_at"], leaf["envelope"]) for leaf in leaves]

    def replayed(ledger) -> list[tuple]:
        return [(entry.index, entry.recorded_at, entry.envelope) for entry in ledger.replayable(0, SIZE)]

    want = expected()
    batch_store.PATHS.__init__()
    monkeypatch.setattr(batch_store, "batch_tree", lambda hashes: pytest.fail("an audit path was built"))
    assert replayed(log.ledger) == want
    assert [entry.index for entry in log.ledger.replayable(BATCH_FIRST + 1, BATCH_FIRST + 3)] == [
        BATCH_FIRST + 1, BATCH_FIRST + 2]
    monkeypatch.undo()
    with raw_database(log.settings.database_url) as database:
        store_whole_leaves(database, log.ledger)
    reopened = log.reopen()
    try:
        assert replayed(reopened) == want
    finally:
        reopened.close()
