"""The transparency log on SQLite and PostgreSQL: signed checkpoints, inclusion and consistency
proofs a client can check on its own, and a database that refuses to rewrite history."""

from __future__ import annotations

import dataclasses

import pytest

from ledger import merkle, note, signing
from ledger.application import Ledger
from ledger.bundle import verify_database
from ledger.errors import BadSignature, ConfigurationError, ProofError
from tests.integration.support import b64, leaf_hash_of, pledge, pledge_batch, raw_database


@pytest.fixture
def grown(opened):
    """A log grown by single pledges and batches of several sizes (so trees are not perfect)."""
    results = [opened.ledger.submit(pledge(opened.company, "single-1", "s-1"))]
    results.append(opened.ledger.submit(pledge_batch(opened.company, "batch-5", 5, prefix="five")))
    results.append(opened.ledger.submit(pledge(opened.company, "single-2", "s-2")))
    results.append(opened.ledger.submit(pledge_batch(opened.company, "batch-3", 3, prefix="three")))
    opened.results = results
    return opened


def checkpoint_key(world) -> tuple[str, bytes]:
    """What a client pins: the origin and the checkpoint public key."""
    return world.settings.origin, signing.public_key_bytes(world.checkpoint_key)


def test_there_is_one_signed_checkpoint_per_submission_and_sizes_strictly_increase(grown):
    checkpoints = grown.ledger.checkpoints()
    sizes = [checkpoint["tree_size"] for checkpoint in checkpoints]
    # genesis, the company, the city, the programme, then the four submissions of `grown`
    assert sizes == [1, 2, 3, 4, 5, 10, 11, 14]
    assert sizes == sorted(set(sizes)) and sizes[-1] == grown.ledger.size()
    assert [result["last_index"] + 1 for result in grown.results] == sizes[-4:]
    name, public = checkpoint_key(grown)
    assert note.parse_verifier_key(grown.ledger.genesis().payload["checkpoint_key"]) == (name, public)
    for checkpoint in checkpoints:
        signed = note.verify_checkpoint(checkpoint["note"], name, public)
        assert (signed.origin, signed.size, signed.root) == (
            name, checkpoint["tree_size"], b64(checkpoint["root"]))
        assert signed.root == grown.ledger.root(checkpoint["tree_size"])


def test_a_checkpoint_is_not_accepted_under_another_key(grown):
    checkpoint = grown.ledger.latest_checkpoint()
    with pytest.raises(BadSignature):
        note.verify_checkpoint(checkpoint["note"], grown.settings.origin,
                               signing.public_key_bytes(signing.generate()))


def test_a_server_with_another_checkpoint_key_cannot_open_the_ledger(world):
    with pytest.raises(ConfigurationError):
        Ledger(world.settings, signing.generate(), world.ledger.pseudonym_secret)


def test_every_inclusion_proof_verifies_against_the_root_and_the_signed_checkpoint(grown):
    ledger = grown.ledger
    name, public = checkpoint_key(grown)
    leaves = dict(ledger.entries(0, ledger.size()))
    proofs = 0
    for checkpoint in ledger.checkpoints():
        size = checkpoint["tree_size"]
        signed_root = note.verify_checkpoint(checkpoint["note"], name, public).root
        root = ledger.root(size)
        assert root == signed_root
        for index in range(size):
            proof = ledger.inclusion_proof(index, size)
            path = [b64(node) for node in proof["proof"]]
            leaf_hash = merkle.leaf_hash(leaves[index])
            assert b64(proof["leaf_hash"]) == leaf_hash and b64(proof["root"]) == root
            assert merkle.verify_inclusion(leaf_hash, index, size, path, root)
            assert merkle.verify_inclusion(leaf_hash, index, size, path, signed_root)
            if size > 1:  # the path proves this leaf, not its neighbour
                neighbour = leaf_hash_of(ledger, (index + 1) % size)
                assert not merkle.verify_inclusion(neighbour, index, size, path, root)
            proofs += 1
    assert proofs == sum(checkpoint["tree_size"] for checkpoint in ledger.checkpoints())


def test_consistency_proofs_link_every_checkpoint_to_the_next(grown):
    ledger = grown.ledger
    checkpoints = ledger.checkpoints()
    for earlier, later in zip(checkpoints, checkpoints[1:]):
        proof = ledger.consistency_proof(earlier["tree_size"], later["tree_size"])
        path = [b64(node) for node in proof["proof"]]
        assert b64(proof["first_root"]) == b64(earlier["root"])
        assert b64(proof["second_root"]) == b64(later["root"])
        assert merkle.verify_consistency(earlier["tree_size"], later["tree_size"], path,
                                         b64(earlier["root"]), b64(later["root"]))
        # ... and the same proof does not link the later tree to a different history.
        assert not merkle.verify_consistency(earlier["tree_size"], later["tree_size"], path,
                                             bytes(32), b64(later["root"]))
    size = ledger.size()
    for first in range(1, size + 1):  # every earlier size is a prefix of today's tree
        proof = ledger.consistency_proof(first, size)
        assert merkle.verify_consistency(first, size, [b64(node) for node in proof["proof"]],
                                         ledger.root(first), ledger.root(size))


def test_checkpoints_every_n_entries_and_on_demand(grown):
    settings = dataclasses.replace(grown.settings, checkpoint_every_entries=5)
    ledger = Ledger(settings, grown.checkpoint_key, grown.ledger.pseudonym_secret)
    try:
        start = ledger.latest_checkpoint()["tree_size"]
        results = [ledger.submit(pledge(grown.company, f"sparse-{n}", f"sparse-{n}")) for n in range(7)]
        assert [result["checkpoint_includes_entries"] for result in results] == [False] * 4 + [True] + [False] * 2
        assert [checkpoint["tree_size"] for checkpoint in ledger.checkpoints(start)] == [start, start + 5]
        signed = ledger.sign_checkpoint()
        assert signed["tree_size"] == ledger.size() == start + 7
        assert ledger.sign_checkpoint() == signed  # nothing new to sign
        assert verify_database(ledger).ok
    finally:
        ledger.close()


@pytest.mark.parametrize("request_", [
    ("inclusion", -1, "size"), ("inclusion", "size", "size"), ("inclusion", 0, "size+1"), ("inclusion", 0, 0),
    ("inclusion", 3, 2), ("consistency", 0, "size"), ("consistency", 1, "size+1"), ("consistency", 5, 4),
    ("consistency", -1, 3), ("entries", -1, 10), ("entries", 0, 0), ("entries", 0, 1001),
], ids=lambda r: f"{r[0]}({r[1]},{r[2]})")
def test_proof_requests_out_of_range_are_refused(grown, request_):
    kind, first, second = request_
    size = grown.ledger.size()
    values = [{"size": size, "size+1": size + 1}.get(value, value) for value in (first, second)]
    method = {"inclusion": grown.ledger.inclusion_proof, "consistency": grown.ledger.consistency_proof,
              "entries": grown.ledger.entries}[kind]
    with pytest.raises(ProofError):
        method(*values)


COLUMNS = {"events": "topic", "log_entries": "originator_version", "log_nodes": "hash", "log_leaves": "hashes",
           "log_checkpoints": "note", "submissions": "digest", "log_batches": "root"}


@pytest.mark.parametrize("table", list(COLUMNS))
def test_the_database_refuses_to_change_or_remove_history(grown, table):
    world = grown
    world.ledger.submit(pledge_batch(world.company, "batch-16", 16, prefix="sixteen"))  # a stored subtree
    before = world.ledger.size(), world.ledger.checkpoints()
    with raw_database(world.settings.database_url) as database:
        name, column = database.table(table), COLUMNS[table]
        statements = [f"UPDATE {name} SET {column} = {column}", f"DELETE FROM {name}"]
        if database.kind == "postgres":  # SQLite has no TRUNCATE; its DELETE FROM is that
            statements.append(f"TRUNCATE {name}")
        for statement in statements:
            with pytest.raises(Exception, match="append-only"):
                database.execute(statement)
    assert (world.ledger.size(), world.ledger.checkpoints()) == before
    assert verify_database(world.ledger).ok
