"""RFC 6962 hashing and proofs against the shared test vectors, and rejection of altered proofs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ledger import merkle

VECTORS_COPY = Path(__file__).with_name("vectors") / "rfc6962.json"  # so a fresh clone anywhere runs


def _shared_vectors() -> Path | None:
    """../shared/vectors beside the checkout (as CI lays it out), wherever the checkout is."""
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "shared" / "vectors" / "rfc6962.json"
        if candidate.exists():
            return candidate
    return None


VECTORS = json.loads(VECTORS_COPY.read_text())


def test_the_copied_vectors_are_the_shared_ones():
    shared = _shared_vectors()
    if shared is not None:  # beside a clone made elsewhere there is nothing to compare with
        assert json.loads(shared.read_text()) == VECTORS


LEAVES = [bytes.fromhex(leaf) for leaf in VECTORS["leaves_hex"]]
ROOTS = {int(size): bytes.fromhex(root) for size, root in VECTORS["roots"].items()}


def stored_tree(leaf_hashes: list[bytes]) -> merkle.NodeReader:
    store = dict(merkle.append_nodes([], 0, leaf_hashes))
    return lambda keys: {key: store[key] for key in keys if key in store}


READ = stored_tree([merkle.leaf_hash(leaf) for leaf in LEAVES])


def test_hasher_vectors():
    hasher = VECTORS["hasher"]
    assert merkle.EMPTY_ROOT.hex() == hasher["empty_tree_root"]
    assert merkle.leaf_hash(b"").hex() == hasher["empty_leaf_hash"]
    assert merkle.leaf_hash(b"L123456").hex() == hasher["leaf_hash_of_ascii_L123456"]
    assert merkle.node_hash(b"N123", b"N456").hex() == hasher["node_hash_of_ascii_N123_N456"]


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_roots_from_leaves_and_from_stored_subtrees(size):
    hashes = [merkle.leaf_hash(leaf) for leaf in LEAVES[:size]]
    assert merkle.root_of(hashes) == ROOTS[size]
    assert merkle.root_from_store(size, READ) == ROOTS[size]


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['leaf_index']}-in-{c['tree_size']}")
def test_inclusion_vectors(case):
    index, size = case["leaf_index"], case["tree_size"]
    proof = merkle.inclusion_proof(index, size, READ)
    assert [node.hex() for node in proof] == case["proof"]
    leaf = merkle.leaf_hash(LEAVES[index])
    assert merkle.verify_inclusion(leaf, index, size, proof, ROOTS[size])
    assert merkle.audit_paths([merkle.leaf_hash(x) for x in LEAVES[:size]])[index] == proof
    for altered in _alterations(proof):
        assert not merkle.verify_inclusion(leaf, index, size, altered, ROOTS[size])
    for wrong_index in (index - 1, index + 1):
        if 0 <= wrong_index:
            assert not merkle.verify_inclusion(leaf, wrong_index, size, proof, ROOTS[size])
    # A wrong size is refused whenever it changes the proof's shape; where it does not, RFC 9162
    # verification cannot tell the sizes apart, and the root (signed with its size) binds it.
    for wrong_size in (size - 1, size + 1, size * 2):
        if wrong_size > index and len(_path(index, [b""] * wrong_size)) != len(proof):
            assert not merkle.verify_inclusion(leaf, index, wrong_size, proof, ROOTS[size])


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['first']}-to-{c['second']}")
def test_consistency_vectors(case):
    first, second = case["first"], case["second"]
    proof = merkle.consistency_proof(first, second, READ)
    assert [node.hex() for node in proof] == case["proof"]
    assert merkle.verify_consistency(first, second, proof, ROOTS[first], ROOTS[second])
    if first == second:
        assert not merkle.verify_consistency(first, second, [ROOTS[first]], ROOTS[first], ROOTS[second])
        return
    for altered in _alterations(proof):
        assert not merkle.verify_consistency(first, second, altered, ROOTS[first], ROOTS[second])
    assert not merkle.verify_consistency(first, second, proof, ROOTS[first], merkle.node_hash(ROOTS[second], b""))
    if second > first + 1:
        assert not merkle.verify_consistency(first, second - 1, proof, ROOTS[first], ROOTS[second - 1])


def _alterations(proof: list[bytes]):
    """A flipped bit in each hash, an extra hash, and each hash missing."""
    for position in range(len(proof)):
        flipped = bytearray(proof[position])
        flipped[position % 32] ^= 0x01
        yield proof[:position] + [bytes(flipped)] + proof[position + 1:]
        yield proof[:position] + proof[position + 1:]
    yield proof + [bytes(32)]


def test_proofs_of_random_trees_verify_and_match_a_naive_rfc6962():
    rng = random.Random(6962)
    hashes = [merkle.leaf_hash(rng.randbytes(rng.randrange(0, 40))) for _ in range(300)]
    frontier: list = []
    store: dict[int, bytes] = {}
    done = 0
    while done < len(hashes):  # appended in random chunks, as submissions do
        chunk = rng.randrange(1, 40)
        store.update(merkle.append_nodes(frontier, done, hashes[done:done + chunk]))
        done = min(done + chunk, len(hashes))
    read = lambda keys: {key: store[key] for key in keys if key in store}  # noqa: E731
    for _ in range(200):
        size = rng.randrange(1, len(hashes) + 1)
        index = rng.randrange(size)
        proof = merkle.inclusion_proof(index, size, read)
        assert proof == _path(index, hashes[:size])
        assert merkle.verify_inclusion(hashes[index], index, size, proof, _mth(hashes[:size]))
        first = rng.randrange(1, size + 1)
        consistency = merkle.consistency_proof(first, size, read)
        assert consistency == _subproof(first, hashes[:size], True)
        assert merkle.verify_consistency(first, size, consistency, _mth(hashes[:first]), _mth(hashes[:size]))


def _k(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _mth(d: list[bytes]) -> bytes:  # RFC 6962 section 2.1, straight from the text
    if not d:
        return merkle.EMPTY_ROOT
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return merkle.node_hash(_mth(d[:k]), _mth(d[k:]))


def _path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    return _path(m, d[:k]) + [_mth(d[k:])] if m < k else _path(m - k, d[k:]) + [_mth(d[:k])]


def _subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [_mth(d)]
    k = _k(n)
    if m <= k:
        return _subproof(m, d[:k], b) + [_mth(d[k:])]
    return _subproof(m - k, d[k:], False) + [_mth(d[:k])]
