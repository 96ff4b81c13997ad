"""The log's subtree hashes: `log_nodes` keeps the perfect subtrees of 2**STORED_LEVEL leaves and
up; smaller ones, leaves included, are folded on read from the leaf hashes in `log_leaves`, kept in
pieces that never cross a multiple of LEAF_BLOCK (about 58 B an entry on PostgreSQL where storing
every level cost 236 B). Ledgers written before kept every level in `log_nodes`; they read the
same way, and grow in this layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger import merkle

STORED_LEVEL = 4
LEAF_BLOCK = 1 << STORED_LEVEL


def read_nodes(cursor: Any, dialect: Any, keys: Sequence[int]) -> dict[int, bytes]:
    """Perfect-node hashes for `keys`, in one query: stored ones from log_nodes, with the
    log_leaves pieces of the blocks that those below STORED_LEVEL lie in, folded here. A node
    that cannot be had (a row removed underneath) is left out, for verification to name or a
    proof to refuse."""
    if not keys:
        return {}
    spans = {key: _span(key) for key in keys if key >> merkle.LEVEL_SHIFT < STORED_LEVEL}
    runs = _block_runs(sorted({first // LEAF_BLOCK for first, _ in spans.values()}))
    if dialect.name == "postgres":
        parts, params = ["SELECT node_key, hash FROM {log_nodes} WHERE node_key = ANY(?)"], [list(keys)]
    else:
        parts, params = [f"SELECT node_key, hash FROM {{log_nodes}} WHERE node_key IN ({','.join('?' * len(keys))})"], list(keys)
    for start, stop in runs:  # a piece as a negative key: -1 - its first index
        parts.append("SELECT -1 - first_index, hashes FROM {log_leaves} WHERE first_index >= ? AND first_index < ?")
        params += [start * LEAF_BLOCK, stop * LEAF_BLOCK]
    cursor.execute(dialect.sql(" UNION ALL ".join(parts)), params)
    found: dict[int, bytes] = {}
    pieces: list[tuple[int, bytes]] = []
    for row in cursor.fetchall():  # a union's columns take the first part's names
        key, digest = int(row["node_key"]), bytes(row["hash"])
        if key >= 0:
            found[key] = digest
        else:
            pieces.append((-1 - key, digest))
    missing = {key: span for key, span in spans.items() if key not in found}
    if missing:
        found.update(_fold(cursor, dialect, missing, _leaf_hashes(sorted(pieces))))
    return found


def _span(key: int) -> tuple[int, int]:
    """The leaves [first, end) under a node."""
    level, index = key >> merkle.LEVEL_SHIFT, key & ((1 << merkle.LEVEL_SHIFT) - 1)
    return index << level, (index + 1) << level


def _block_runs(blocks: list[int]) -> list[tuple[int, int]]:
    """Runs [start, stop) of consecutive block numbers."""
    runs: list[tuple[int, int]] = []
    for block in blocks:
        if runs and runs[-1][1] == block:
            runs[-1] = (runs[-1][0], block + 1)
        else:
            runs.append((block, block + 1))
    return runs


def _leaf_hashes(pieces: list[tuple[int, bytes]]) -> dict[int, bytes]:
    """Leaf hashes by index from (first index, hashes) pieces, in order of first index."""
    leaves: dict[int, bytes] = {}
    for first, hashes in pieces:
        leaves.update((first + at // 32, hashes[at:at + 32]) for at in range(0, len(hashes) - 31, 32))
    return leaves


def _fold(cursor: Any, dialect: Any, spans: dict[int, tuple[int, int]], leaves: dict[int, bytes]) -> dict[int, bytes]:
    """Subtrees below STORED_LEVEL from their leaves' hashes."""
    absent = sorted({index for first, end in spans.values() for index in range(first, end) if index not in leaves})
    if absent:  # a ledger written before log_leaves keeps its leaf hashes as level-0 nodes
        keys = [merkle.node_key(0, index) for index in absent]
        if dialect.name == "postgres":
            cursor.execute(dialect.sql("SELECT node_key, hash FROM {log_nodes} WHERE node_key = ANY(?)"), (keys,))
        else:
            cursor.execute(dialect.sql(f"SELECT node_key, hash FROM {{log_nodes}} WHERE node_key IN "
                                       f"({','.join('?' * len(keys))})"), keys)
        leaves.update((int(row["node_key"]) & ((1 << merkle.LEVEL_SHIFT) - 1), bytes(row["hash"]))
                      for row in cursor.fetchall())
    folded = {}
    for key, (first, end) in spans.items():
        hashes = [leaves.get(index) for index in range(first, end)]
        if None not in hashes:
            folded[key] = merkle.root_of(hashes)
    return folded


def leaf_pieces(first_index: int, leaf_hashes: Sequence[bytes]) -> list[tuple[int, bytes]]:
    """log_leaves rows for leaves from `first_index`: their hashes in pieces split at every
    multiple of LEAF_BLOCK."""
    pieces, at = [], 0
    while at < len(leaf_hashes):
        index = first_index + at
        take = min(LEAF_BLOCK - index % LEAF_BLOCK, len(leaf_hashes) - at)
        pieces.append((index, b"".join(leaf_hashes[at:at + take])))
        at += take
    return pieces
