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
    """Perfect-node hashes for `keys`, in few queries: stored ones from log_nodes, those below
    STORED_LEVEL folded from the leaf hashes in log_leaves. A node that cannot be had (a row
    removed underneath) is left out, for verification to name or a proof to refuse."""
    if not keys:
        return {}
    found = _stored_nodes(cursor, dialect, keys)
    small = [key for key in keys if key not in found and key >> merkle.LEVEL_SHIFT < STORED_LEVEL]
    if small:
        found.update(_folded_nodes(cursor, dialect, small))
    return found


def _stored_nodes(cursor: Any, dialect: Any, keys: Sequence[int]) -> dict[int, bytes]:
    if dialect.name == "postgres":
        cursor.execute(dialect.sql("SELECT node_key, hash FROM {log_nodes} WHERE node_key = ANY(?)"),
                       (list(keys),))
    else:
        marks = ",".join("?" * len(keys))
        cursor.execute(dialect.sql(f"SELECT node_key, hash FROM {{log_nodes}} WHERE node_key IN ({marks})"),
                       list(keys))
    return {int(row["node_key"]): bytes(row["hash"]) for row in cursor.fetchall()}


def _folded_nodes(cursor: Any, dialect: Any, keys: Sequence[int]) -> dict[int, bytes]:
    """Subtrees below STORED_LEVEL from their leaves' hashes: one query per run of consecutive
    leaf blocks they lie in (a block's pieces all start inside it)."""
    mask = (1 << merkle.LEVEL_SHIFT) - 1
    spans = {key: ((key & mask) << (key >> merkle.LEVEL_SHIFT), ((key & mask) + 1) << (key >> merkle.LEVEL_SHIFT))
             for key in keys}
    blocks = sorted({first // LEAF_BLOCK for first, _ in spans.values()})
    leaves: dict[int, bytes] = {}
    run_start = previous = blocks[0]
    for block in [*blocks[1:], None]:
        if block is not None and block == previous + 1:
            previous = block
            continue
        leaves.update(select_leaf_hashes(cursor, dialect, run_start * LEAF_BLOCK, (previous + 1) * LEAF_BLOCK))
        if block is not None:
            run_start = previous = block
    absent = sorted({index for first, end in spans.values() for index in range(first, end) if index not in leaves})
    if absent:  # a ledger written before log_leaves keeps its leaf hashes as level-0 nodes
        old = _stored_nodes(cursor, dialect, [merkle.node_key(0, index) for index in absent])
        leaves.update((index, old[merkle.node_key(0, index)]) for index in absent if merkle.node_key(0, index) in old)
    folded = {}
    for key, (first, end) in spans.items():
        hashes = [leaves.get(index) for index in range(first, end)]
        if None not in hashes:
            folded[key] = merkle.root_of(hashes)
    return folded


def select_leaf_hashes(cursor: Any, dialect: Any, start: int, stop: int) -> dict[int, bytes]:
    """Leaf hashes by index from the log_leaves pieces that start in [start, stop)."""
    cursor.execute(dialect.sql("SELECT first_index, hashes FROM {log_leaves} WHERE first_index >= ? "
                               "AND first_index < ? ORDER BY first_index"), (start, stop))
    leaves = {}
    for row in cursor.fetchall():
        first, hashes = int(row["first_index"]), bytes(row["hashes"])
        leaves.update((first + at // 32, hashes[at:at + 32]) for at in range(0, len(hashes) - 31, 32))
    return leaves


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
