"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs built from stored subtree hashes, and checks.

A *perfect node* (level, index) is the root of the 2**level leaves starting at index * 2**level.
Any tree head or proof is a fold of at most ~2 log2(n) perfect nodes, which a store gives
(ledger/node_store.py: those of 16 leaves and up stored, smaller ones folded from leaf hashes)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
LEVEL_SHIFT = 48  # node key = level << 48 | index: one integer column, 2**48 leaves at most

NodeKey = int
NodeReader = Callable[[Sequence[NodeKey]], dict[NodeKey, bytes]]


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf)."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def node_key(level: int, index: int) -> NodeKey:
    """The single-integer key of a perfect node."""
    return (level << LEVEL_SHIFT) | index


def _split(size: int) -> int:
    """The largest power of two strictly below `size` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over in-memory leaf hashes (used for batches and by verifiers)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def audit_paths(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """The RFC 6962 inclusion path of every leaf of a small in-memory tree, in one pass."""
    paths: list[list[bytes]] = [[] for _ in leaf_hashes]
    members = [[i] for i in range(len(leaf_hashes))]  # leaves under each current node
    level = list(leaf_hashes)
    while len(level) > 1:
        next_level, next_members = [], []
        for i in range(0, len(level) - 1, 2):
            for leaf in members[i]:
                paths[leaf].append(level[i + 1])
            for leaf in members[i + 1]:
                paths[leaf].append(level[i])
            next_level.append(node_hash(level[i], level[i + 1]))
            next_members.append(members[i] + members[i + 1])
        if len(level) % 2:
            next_level.append(level[-1])
            next_members.append(members[-1])
        level, members = next_level, next_members
    return paths


# ---- ranges and stored trees -------------------------------------------------------------


def perfect_cover(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect nodes whose fold right-to-left is MTH(D[start:end]).

    Valid for every range RFC 6962's recursion produces: `start` is aligned to the largest
    power of two not above `end - start`.
    """
    nodes = []
    while start < end:
        size = end - start
        chunk = size if size & (size - 1) == 0 else _split(size)
        level = chunk.bit_length() - 1
        nodes.append((level, start >> level))
        start += chunk
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """Fold perfect-node hashes right to left into one subtree hash."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _inclusion_ranges(index: int, start: int, end: int) -> list[tuple[int, int]]:
    ranges = []
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()  # RFC order: from the leaf upwards
    return ranges


def _consistency_ranges(first: int, start: int, end: int) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    complete = True
    while True:
        size = end - start
        if first == size:
            if not complete:
                ranges.append((start, end))
            break
        k = _split(size)
        if first <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            first -= k
            start += k
            complete = False
    ranges.reverse()
    return ranges


def keys_read(size: int, index: int | None = None, first: int | None = None) -> set[NodeKey]:
    """Nodes read for the root of `size`, and its inclusion proof of `index` or root of `first` and proof from it."""
    ranges = [(0, size)] if size else []
    if index is not None:
        ranges += _inclusion_ranges(index, 0, size)
    if first is not None:
        ranges += [(0, first), *(_consistency_ranges(first, 0, size) if 0 < first < size else [])]
    return {node_key(level, position) for start, end in ranges for level, position in perfect_cover(start, end)}


class MissingSubtrees(LookupError):
    """The store lacks subtree hashes a proof or root needs (rows removed underneath)."""

    def __init__(self, keys: Sequence[NodeKey]):
        spans = [((key & (1 << LEVEL_SHIFT) - 1) << (key >> LEVEL_SHIFT), 1 << (key >> LEVEL_SHIFT)) for key in keys[:3]]
        super().__init__("the log's store is missing the hashes of the subtrees over entries "
                         + ", ".join(f"{first}..{first + width - 1}" for first, width in spans))


def hashes_for_ranges(ranges: Sequence[tuple[int, int]], read: NodeReader) -> list[bytes]:
    """Read every perfect node the ranges need in one call, then fold each range."""
    covers = [perfect_cover(start, end) for start, end in ranges]
    keys = sorted({node_key(level, index) for cover in covers for level, index in cover})
    stored = read(keys)
    missing = [key for key in keys if key not in stored]
    if missing:
        raise MissingSubtrees(missing)
    return [fold([stored[node_key(level, index)] for level, index in cover]) for cover in covers]


def root_from_store(size: int, read: NodeReader) -> bytes:
    """Tree head of the first `size` leaves, from stored nodes."""
    if size == 0:
        return EMPTY_ROOT
    return hashes_for_ranges([(0, size)], read)[0]


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    """RFC 6962 PATH(index, D[0:size])."""
    assert 0 <= index < size
    return hashes_for_ranges(_inclusion_ranges(index, 0, size), read)


def consistency_proof(first: int, second: int, read: NodeReader) -> list[bytes]:
    """RFC 6962 PROOF(first, D[0:second])."""
    assert 0 < first <= second
    if first == second:
        return []
    return hashes_for_ranges(_consistency_ranges(first, 0, second), read)


def append_nodes(
    frontier: list[tuple[int, int, bytes]], first_index: int, new_leaf_hashes: Iterable[bytes]
) -> list[tuple[NodeKey, bytes]]:
    """Extend `frontier` (the perfect nodes of the current size, largest first) in place.

    Returns every perfect node completed by the new leaves, leaves included, to be stored.
    """
    completed: list[tuple[NodeKey, bytes]] = []
    index = first_index
    for digest in new_leaf_hashes:
        level, position, current = 0, index, digest
        completed.append((node_key(0, position), current))
        while frontier and frontier[-1][0] == level:
            _, _, left = frontier.pop()
            level, position, current = level + 1, position >> 1, node_hash(left, current)
            completed.append((node_key(level, position), current))
        frontier.append((level, position, current))
        index += 1
    return completed


def frontier_keys(size: int) -> list[tuple[int, int]]:
    """(level, index) of the perfect nodes that make up a tree of `size` leaves, largest first."""
    return perfect_cover(0, size)


# ---- verification (what a client or auditor runs) ----------------------------------------


def verify_inclusion(
    leaf_digest: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2."""
    walk = inclusion_walk(leaf_digest, index, size, proof)
    return walk is not None and walk.ends_at(root)


@dataclass(frozen=True)
class InclusionWalk:
    """The states (fn, sn, result) of RFC 9162's inclusion check, before and after each hash of
    `proof`; `ends_at(root)` is the check's answer."""

    proof: Sequence[bytes]
    states: list[tuple[int, int, bytes]]

    def ends_at(self, root: bytes) -> bool:
        _, sn, result = self.states[-1]
        return sn == 0 and result == root


def inclusion_walk(leaf_digest: bytes, index: int, size: int, proof: Sequence[bytes],
                   known: InclusionWalk | None = None) -> InclusionWalk | None:
    """RFC 9162 section 2.1.3.2's walk up an audit path, or None where it fails before its end.

    `known` is an earlier walk: once this one reaches the state that one had at the same step,
    with the same proof hashes left, the rest is the same computation, so it is taken from
    `known` (the lines of a batch share all but the first few steps of their paths)."""
    if index < 0 or index >= size:
        return None
    fn, sn, result = index, size - 1, leaf_digest
    states = [(fn, sn, result)]
    shared = known.states if known is not None and len(known.proof) == len(proof) else ()
    for step, sibling in enumerate(proof):
        if step < len(shared) and shared[step] == states[-1] and proof[step:] == known.proof[step:]:
            return InclusionWalk(proof, states + shared[step + 1:])
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
        states.append((fn, sn, result))
    return InclusionWalk(proof, states)


def verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> bool:
    """RFC 9162 section 2.1.4.2 (with size 0 consistent with anything, by an empty proof)."""
    if first < 0 or second < first:
        return False
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first_result = second_result = path[0]
    for sibling in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first_result = node_hash(sibling, first_result)
            second_result = node_hash(sibling, second_result)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            second_result = node_hash(second_result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and first_result == first_root and second_result == second_root
