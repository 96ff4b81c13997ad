"""The RFC 6962 tree of one submission's envelopes, as a format-2 bundle's reader and the
compact store (ledger/batch_store.py) rebuild it: its root, and each line's audit path as the
text between the brackets of `"path":[...]`, every node hashed and encoded once."""

from __future__ import annotations

from base64 import b64encode

from ledger import merkle


def batch_tree(leaf_hashes: list[bytes]) -> tuple[bytes, list[bytes]]:
    """The RFC 6962 root over leaf hashes and each leaf's audit path as the text between the
    brackets of `"path":[...]`. Each node is hashed and encoded once: n hashes, not n log n."""
    root, levels = tree_levels(leaf_hashes)
    return root, [path_text(levels, leaf) for leaf in range(len(leaf_hashes))]


def tree_levels(leaf_hashes: list[bytes]) -> tuple[bytes, list[list[bytes]]]:
    """The root, and every level but the root's as its nodes' JSON texts."""
    level = leaf_hashes
    texts: list[list[bytes]] = []
    while len(level) > 1:
        texts.append([b'"' + b64encode(node) + b'"' for node in level])
        paired = [merkle.node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])  # an odd last node is carried up unchanged (RFC 6962's split)
        level = paired
    return (level[0] if level else merkle.EMPTY_ROOT), texts


def path_text(levels: list[list[bytes]], leaf: int) -> bytes:
    """The audit path of leaf number `leaf`, from `tree_levels`'s levels."""
    siblings = []
    for depth, nodes in enumerate(levels):
        sibling = (leaf >> depth) ^ 1
        if sibling < len(nodes):
            siblings.append(nodes[sibling])
    return b",".join(siblings)
