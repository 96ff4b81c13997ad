"""Batched lines stored compactly (ledger/batch_store.py): the stored state rebuilds the exact
leaf, with the audit path that the writer put in it."""

from __future__ import annotations

import json

from ledger import batch_store, merkle, signing
from ledger.batch_tree import batch_tree
from ledger.canonical import canonical_bytes
from ledger.entry import build_entry


def test_the_batch_tree_gives_the_writers_audit_paths():
    for size in range(1, 70):
        hashes = [merkle.leaf_hash(b"envelope %d" % number) for number in range(size)]
        root, paths = batch_tree(hashes)
        assert root == merkle.root_of(hashes)
        assert paths == [",".join(f'"{signing.b64encode(node)}"' for node in path).encode()
                         for path in merkle.audit_paths(hashes)]


def batch_entries(size: int) -> list:
    envelopes = [{"actor": "bpjs", "payload": {"n": number, "note": "ä\"\\}"}, "sequence": number + 1,
                  "type": "premium.paid"} for number in range(size)]
    hashes = [merkle.leaf_hash(canonical_bytes(envelope)) for envelope in envelopes]
    root = signing.b64encode(merkle.root_of(hashes))
    paths = merkle.audit_paths(hashes)
    return [build_entry(40 + number, "2025-01-01T00:00:00.000001Z", envelope, canonical_bytes(envelope), "c2ln",
                        {"path": [signing.b64encode(node) for node in paths[number]], "root": root, "size": size})
            for number, envelope in enumerate(envelopes)]


def test_a_compact_line_rebuilds_its_leaf_byte_for_byte():
    entries = batch_entries(7)
    row = batch_store.batch_row(entries, 40)
    paths = batch_store.PATHS.get(row)
    for entry in entries:
        state = batch_store.compact_state(entry)
        assert state.startswith(b'{"line":') and json.loads(state)["line"]["index"] == entry.index
        assert batch_store.expand(state, row, paths[entry.index - 40]) == entry.leaf


def test_a_single_envelope_is_stored_whole():
    envelope = {"actor": "bpjs", "payload": {}, "sequence": 1, "type": "premium.paid"}
    entry = build_entry(3, "2025-01-01T00:00:00.000001Z", envelope, canonical_bytes(envelope), "c2ln", None)
    assert batch_store.compact_state(entry) == entry.leaf
    assert batch_store.batch_row([entry], 3) is None
