"""Bundle format 2's lines, in memory: what the exporter writes rebuilds every leaf byte for
byte, batches of every size (odd ones carry a node up the tree), and whatever would not rebuild
exactly is written whole, so nothing is lost."""

from __future__ import annotations

import pytest

from ledger import merkle, signing
from ledger.bundle_v2 import chunks, lines_of, rebuild_chunk
from ledger.canonical import canonical_bytes
from ledger.client import Signer
from ledger.entry import build_entry

ORIGIN = "amanah.example/ledger"


def log_of(batch_sizes: list[int]) -> list[bytes]:
    """Leaves of submissions of the given sizes, one after another, as the ledger builds them."""
    signer = Signer(ORIGIN, "pt-contoh", signing.generate())
    leaves: list[bytes] = []
    for number, size in enumerate(batch_sizes):
        document = signer.submission(f"s-{number}", [("pledge.made", "2025-01-06T09:00:00Z",
                                                      {"pledge": f"p-{number}-{k}", "amount_rupiah": 1_000 + k})
                                                     for k in range(size)])
        encoded = [canonical_bytes(envelope) for envelope in document["envelopes"]]
        hashes = [merkle.leaf_hash(data) for data in encoded]
        paths = merkle.audit_paths(hashes)
        for sequence, (envelope, data) in enumerate(zip(document["envelopes"], encoded, strict=True)):
            batch = None if size == 1 else {"path": [signing.b64encode(node) for node in paths[sequence]],
                                            "root": signing.b64encode(merkle.root_of(hashes)), "size": size}
            leaves.append(build_entry(len(leaves), "2025-01-06T09:00:01.250000Z", envelope, data,
                                      document["signature"], batch).leaf)
    return leaves


def rebuilt(lines: list[bytes], size: int = 4) -> list[bytes]:
    result = []
    for start, groups in chunks(lines, size):
        entries, leftover = rebuild_chunk(start, groups)
        assert not leftover and not any(entry.failures for entry in entries)
        result += [entry.leaf for entry in entries]
    return result


@pytest.mark.parametrize("sizes", [[1], [2], [3, 1, 5], [1, 7, 1, 8, 2], [33]])
def test_every_leaf_is_rebuilt_byte_for_byte(sizes):
    leaves = log_of(sizes)
    lines = list(lines_of(enumerate(leaves)))
    assert len(lines) == len(leaves) + sum(1 for size in sizes if size > 1)  # one record per batch
    assert rebuilt(lines) == leaves
    assert sum(map(len, lines)) < sum(len(leaf) + 20 for leaf in leaves) or sizes == [1]


def test_a_batch_that_would_not_rebuild_exactly_is_written_whole():
    leaves = log_of([1, 3, 1])
    altered = leaves[2].replace(b'"amount_rupiah":1001', b'"amount_rupiah":1002')  # its path no longer fits
    leaves[2] = altered
    lines = list(lines_of(enumerate(leaves)))
    assert not any(line.startswith(b'{"submission"') for line in lines)
    assert rebuilt(lines) == leaves


def test_a_large_submission_is_rebuilt_and_prechecked_without_holding_its_leaves():
    """A worker process of `amanah verify` rebuilds a chunk that may be one 20,000-line
    submission: its leaves are built one at a time, and it answers with each line's envelope
    bytes, not the leaf with its audit path (memory at 1M entries: docs/benchmarks.md)."""
    import tracemalloc

    from ledger.parallel import rebuilt_and_prechecked

    leaves = log_of([1, 3000])
    lines = list(lines_of(enumerate(leaves)))
    [(start, groups)] = list(chunks(lines[1:], 10_000))
    tracemalloc.start()
    results, leftover = rebuilt_and_prechecked(1, groups, ORIGIN)
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert not leftover and len(results) == 3000
    assert all(checked.usable and not checked.failures for _, checked in results)
    leaves_bytes = sum(len(leaf) for leaf in leaves[1:])  # 3.2 MB
    assert sum(len(data) for data, _ in results) < leaves_bytes / 2  # the envelopes, not the leaves
    # Measured: held 2.1 MB, peak 4.3 MB; with every leaf built first and sent, 4.9 and 7.5 MB.
    assert held < leaves_bytes and peak < 1.6 * leaves_bytes, f"held {held:,}, peak {peak:,} bytes"
