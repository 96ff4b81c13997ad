"""An inclusion walk that takes its end from an earlier walk gives the answer a full walk gives,
for every leaf of trees of many sizes, with good and altered paths, whichever walk came before."""

from __future__ import annotations

import random

from ledger import merkle


def _tree(size: int) -> tuple[list[bytes], list[list[bytes]], bytes]:
    hashes = [merkle.leaf_hash(b"line %d" % number) for number in range(size)]
    return hashes, merkle.audit_paths(hashes), merkle.root_of(hashes)


def _answer(walk: merkle.InclusionWalk | None, root: bytes) -> bool:
    return walk is not None and walk.ends_at(root)


def test_each_line_after_the_one_before_it_gets_the_full_walks_answer():
    for size in (2, 3, 5, 8, 13, 64, 100, 129):
        hashes, paths, root = _tree(size)
        known = None
        for index in range(size):
            walk = merkle.inclusion_walk(hashes[index], index, size, paths[index], known)
            full = merkle.inclusion_walk(hashes[index], index, size, paths[index])
            assert walk is not None and walk.states == full.states and walk.ends_at(root)
            assert len(walk.states) == len(paths[index]) + 1
            known = walk


def test_an_altered_line_is_refused_whatever_walk_came_before():
    generator = random.Random(6962)
    for size in (2, 3, 7, 16, 33, 100):
        hashes, paths, root = _tree(size)
        walks = [merkle.inclusion_walk(hashes[index], index, size, paths[index]) for index in range(size)]
        for index in range(size):
            path = list(paths[index])
            leaf = hashes[index]
            alterations = [(leaf, index, size, path[:-1]), (leaf, index, size, path + [leaf]),
                           (leaf, (index + 1) % size, size, path), (leaf, index, size + 1, path),
                           (merkle.leaf_hash(b"forged"), index, size, path)]
            if path:
                spot = generator.randrange(len(path))
                alterations.append((leaf, index, size, path[:spot] + [bytes(32)] + path[spot + 1:]))
            for known in (None, walks[index - 1], walks[index], walks[generator.randrange(size)]):
                for altered in alterations:
                    expected = merkle.verify_inclusion(*altered, root)
                    assert _answer(merkle.inclusion_walk(*altered, known), root) == expected
