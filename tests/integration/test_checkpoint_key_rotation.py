"""Rotating the ledger's checkpoint key, on SQLite and PostgreSQL: checkpoints before and after a
rotation verify in the database and in a bundle, with or without the genesis key pinned; a
checkpoint signed by a retired key is named; a rotation without the old key's cross-signature,
or by anyone but the registrar, is refused and stores nothing.

The log of every case (entries 0-3: genesis, the company, the city, the programme):

    4      a pledge                                   checkpoint 5, genesis key
    5      rotation to key B (cross-signed by A)      checkpoint 6, key B
    6      a pledge                                   checkpoint 7, key B
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.app import create_app
from ledger import merkle, note, signing
from ledger.application import Ledger
from tests.integration.forgery import refresh_digests
from ledger.bundle import export_bundle, verify_bundle, verify_database
from ledger.canonical import canonical_bytes
from ledger.checkpoint_keys import ROTATION_TYPE, rotation_payload, verifier_key_of
from ledger.config import Settings
from ledger.documents import verify_document
from ledger.entry import build_entry
from ledger.errors import (
    AlreadyExists, BadSignature, ConfigurationError, InvalidInput, NotPermitted, RuleViolation,
)
from tests.domain.conftest import assert_refused
from tests.integration.support import WHEN, pledge, raw_database

ROTATION = 5


def rotate(world, new_key=None, ledger: Ledger | None = None, key: str = "rotate-1") -> dict:
    """The registrar rotates the checkpoint key, cross-signed by the key in force."""
    ledger = ledger or world.ledger
    new_key = new_key or signing.generate()
    payload = rotation_payload(ledger.origin, ledger.current_checkpoint_key(), ledger.hold_checkpoint_key(new_key))
    return ledger.submit(world.registrar.one(key, ROTATION_TYPE, WHEN, payload))


@pytest.fixture
def rotated(opened):
    ledger = opened.ledger
    opened.genesis_key = ledger.genesis().payload["checkpoint_key"]
    ledger.submit(pledge(opened.company, "before", "before"))
    opened.new_key = signing.generate()
    assert rotate(opened, opened.new_key)["first_index"] == ROTATION
    ledger.submit(pledge(opened.company, "after", "after"))
    opened.new_verifier_key = verifier_key_of(ledger.origin, opened.new_key)
    return opened


def signer_of(checkpoint: dict, world) -> str:
    """Which of the world's checkpoint keys signed this checkpoint note."""
    for private_key in (world.checkpoint_key, world.new_key):
        try:
            note.verify_checkpoint(checkpoint["note"], world.settings.origin, signing.public_key_bytes(private_key))
            return verifier_key_of(world.settings.origin, private_key)
        except BadSignature:
            continue
    return "none"


def explain(report) -> list[str]:
    return [str(failure) for failure in report.failures]


def test_checkpoints_before_the_rotation_keep_the_old_key_and_later_ones_use_the_new(rotated):
    ledger = rotated.ledger
    signers = {checkpoint["tree_size"]: signer_of(checkpoint, rotated) for checkpoint in ledger.checkpoints()}
    assert set(signers) == set(range(1, 8))
    assert {size for size, key in signers.items() if key == rotated.genesis_key} == set(range(1, ROTATION + 1))
    assert {size for size, key in signers.items() if key == rotated.new_verifier_key} == {6, 7}
    assert [(record.verifier_key, record.declared_at) for record in ledger.checkpoint_key_history()] == [
        (rotated.genesis_key, 0), (rotated.new_verifier_key, ROTATION)]
    report = verify_database(ledger)
    assert report.ok and report.checkpoints == 7, explain(report)


def test_a_bundle_across_two_rotations_verifies_with_and_without_the_pinned_genesis_key(rotated, tmp_path):
    third = signing.generate()
    rotate(rotated, third, key="rotate-2")
    rotated.ledger.submit(pledge(rotated.company, "later", "later"))
    manifest = export_bundle(rotated.ledger, tmp_path / "bundle")
    assert manifest["checkpoint_key"] == verifier_key_of(rotated.ledger.origin, third)
    assert [(key["declared_at"], key["signs_from_tree_size"], key["signs_to_tree_size"])
            for key in manifest["checkpoint_keys"]] == [(0, 1, ROTATION), (ROTATION, 6, 7), (7, 8, None)]
    for pinned in (None, rotated.genesis_key):
        report = verify_bundle(tmp_path / "bundle", pinned_origin=rotated.settings.origin,
                               pinned_checkpoint_key=pinned)
        assert report.ok and (report.entries, report.checkpoints) == (9, 9), explain(report)
    stranger = note.verifier_key(rotated.settings.origin, signing.public_key_bytes(signing.generate()))
    report = verify_bundle(tmp_path / "bundle", pinned_checkpoint_key=stranger)
    assert (0, "checkpoint-key") in {(failure.index, failure.check) for failure in report.failures}


def old_key_note(world, size: int) -> str:
    return note.sign_note(note.checkpoint_body(world.settings.origin, size, world.ledger.root(size)),
                          world.settings.origin, world.checkpoint_key)


def test_a_checkpoint_after_the_rotation_signed_with_the_old_key_is_named_in_a_bundle(rotated, tmp_path):
    bundle = tmp_path / "bundle"
    export_bundle(rotated.ledger, bundle)
    path = bundle / "checkpoints.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[6]["note"] = old_key_note(rotated, 7)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    refresh_digests(bundle)  # a forger would: the manifest is not signed
    report = verify_bundle(bundle)
    failure = report.failures[0]
    assert {(item.index, item.check) for item in report.failures} == {(6, "checkpoint")}, explain(report)
    assert "not covered by any signed checkpoint" in report.failures[-1].detail  # so the last entry is unproven
    assert f"retired checkpoint key {rotated.genesis_key}" in failure.detail
    assert f"the key in force is {rotated.new_verifier_key}" in failure.detail


def test_a_checkpoint_after_the_rotation_signed_with_the_old_key_is_named_in_the_database(rotated):
    with raw_database(rotated.settings.database_url) as database:
        database.allow_changes("log_checkpoints")
        database.execute(f"UPDATE {database.table('log_checkpoints')} SET note = ? WHERE tree_size = ?",
                         (old_key_note(rotated, 6), 6))
    report = verify_database(rotated.ledger)
    assert [(failure.index, failure.check) for failure in report.failures] == [(5, "checkpoint")], explain(report)
    assert rotated.genesis_key in report.failures[0].detail


def test_a_checkpoint_before_the_rotation_signed_with_the_new_key_fails_too(rotated, tmp_path):
    bundle = tmp_path / "bundle"
    export_bundle(rotated.ledger, bundle)
    path = bundle / "checkpoints.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[4]["note"] = note.sign_note(note.checkpoint_body(rotated.settings.origin, 5, rotated.ledger.root(5)),
                                     rotated.settings.origin, rotated.new_key)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    refresh_digests(bundle)  # a forger would: the manifest is not signed
    report = verify_bundle(bundle)
    failure = report.failures[0]
    assert (failure.index, failure.check) == (4, "checkpoint"), explain(report)
    assert f"the key in force is {rotated.genesis_key}" in failure.detail
    # the next checkpoint's stored proof starts from the refused one, so it cannot be checked either
    assert [(item.index, item.check) for item in report.failures[1:]] == [(5, "consistency")], explain(report)


def rotation_document(world, payload: dict, signer=None, key: str = "bad-rotation") -> dict:
    return (signer or world.registrar).one(key, ROTATION_TYPE, WHEN, payload)


def test_a_rotation_without_the_old_keys_cross_signature_is_refused(opened):
    ledger, origin = opened.ledger, opened.settings.origin
    thief_key = signing.generate()
    new = ledger.hold_checkpoint_key(thief_key)
    good = rotation_payload(origin, opened.checkpoint_key, new)
    missing = {name: value for name, value in good.items() if name != "cross_signature"}
    assert_refused(ledger, InvalidInput, "envelopes[0].payload.cross_signature",
                   lambda: ledger.submit(rotation_document(opened, missing)))
    for signed_by in (thief_key, opened.registrar.private_key):  # the new key, or the registrar's own
        forged = rotation_payload(origin, signed_by, new) | {"replaces": good["replaces"]}
        error = assert_refused(ledger, BadSignature, "payload.cross_signature",
                               lambda: ledger.submit(rotation_document(opened, forged)))
        assert good["replaces"] in str(error)
    assert ledger.checkpoint_key_history()[-1].verifier_key == good["replaces"]
    assert verify_database(ledger).ok


def test_a_rotation_that_breaks_a_rule_is_refused_and_names_the_field(opened):
    ledger, origin = opened.ledger, opened.settings.origin
    genesis_key = ledger.genesis().payload["checkpoint_key"]
    new = ledger.hold_checkpoint_key(signing.generate())
    other_origin = note.verifier_key("another.example/ledger", signing.public_key_bytes(signing.generate()))
    cases = [
        (RuleViolation, "payload.replaces", rotation_payload(origin, opened.checkpoint_key, new)
         | {"replaces": note.verifier_key(origin, signing.public_key_bytes(signing.generate()))}),
        (AlreadyExists, "payload.checkpoint_key", rotation_payload(origin, opened.checkpoint_key, genesis_key)),
        (InvalidInput, "payload.checkpoint_key", rotation_payload(origin, opened.checkpoint_key, other_origin)),
    ]
    for error_class, field, payload in cases:
        assert_refused(ledger, error_class, field, lambda: ledger.submit(rotation_document(opened, payload)))
    for value in ("not a key", 7, "", new[:-2]):
        payload = rotation_payload(origin, opened.checkpoint_key, new) | {"checkpoint_key": value}
        assert_refused(ledger, InvalidInput, "envelopes[0].payload.checkpoint_key",
                       lambda: ledger.submit(rotation_document(opened, payload)))
    payload = rotation_payload(origin, opened.checkpoint_key, new)
    assert_refused(ledger, NotPermitted, "envelopes[0].type",
                   lambda: ledger.submit(rotation_document(opened, payload, opened.company)))


def test_a_rotation_to_a_key_the_ledger_does_not_hold_is_refused(opened):
    ledger, origin = opened.ledger, opened.settings.origin
    unknown = note.verifier_key(origin, signing.public_key_bytes(signing.generate()))
    assert_refused(ledger, NotPermitted, "envelopes[0].payload.checkpoint_key", lambda: ledger.submit(
        rotation_document(opened, rotation_payload(origin, opened.checkpoint_key, unknown))))


def test_the_ledger_starts_only_with_the_key_in_force(rotated):
    secret = rotated.ledger.pseudonym_secret
    with pytest.raises(ConfigurationError, match=f"retired at entry {ROTATION}"):
        Ledger(rotated.settings, rotated.checkpoint_key, secret)
    with pytest.raises(ConfigurationError, match="does not match the one in force"):
        Ledger(rotated.settings, signing.generate(), secret)
    again = Ledger(rotated.settings, rotated.new_key, secret)
    try:
        result = again.submit(pledge(rotated.company, "restarted", "restarted"))
        assert signer_of(result["checkpoint"], rotated) == rotated.new_verifier_key
    finally:
        again.close()


def test_a_process_still_holding_the_old_key_reloads_the_configured_file_or_refuses(rotated):
    stale = Ledger(rotated.settings, None, rotated.ledger.pseudonym_secret)
    stale.checkpoint_key = rotated.checkpoint_key  # as a server started before the rotation holds it
    stale.hold_checkpoint_key(rotated.checkpoint_key)
    try:
        size = stale.size()
        with pytest.raises(ConfigurationError, match="rotated at entry 5"):  # the file still holds the old key
            stale.submit(pledge(rotated.company, "stale", "stale"))
        assert stale.size() == size
        switch_key_file(rotated)
        result = stale.submit(pledge(rotated.company, "stale", "stale"))
        assert signer_of(result["checkpoint"], rotated) == rotated.new_verifier_key
    finally:
        stale.close()
    assert verify_database(rotated.ledger).ok


def switch_key_file(world) -> None:
    """Configure the new key, as `amanah checkpoint-key rotate` does."""
    key_file = world.settings.checkpoint_key_path
    key_file.unlink()
    signing.write_private_key(world.new_key, key_file, None)


def test_the_keys_endpoint_and_signed_documents_show_the_key_in_force(rotated):
    switch_key_file(rotated)
    app = create_app({"SETTINGS": rotated.settings, "TESTING": True})
    services = app.extensions["amanah"]
    try:
        client = app.test_client()
        keys = client.get("/api/v1/keys").get_json()
        assert keys["checkpoint_key"] == rotated.new_verifier_key
        assert keys["checkpoint_keys"] == [
            {"verifier_key": rotated.genesis_key, "declared_at": 0, "signs_from_tree_size": 1,
             "signs_to_tree_size": ROTATION},
            {"verifier_key": rotated.new_verifier_key, "declared_at": ROTATION, "signs_from_tree_size": 6,
             "signs_to_tree_size": None}]
        latest = client.get("/api/v1/checkpoint").get_data(as_text=True)
        note.verify_checkpoint(latest, *note.parse_verifier_key(keys["checkpoint_key"]))
        verify_document(client.get("/api/v1/awards/2025").get_json(), keys["checkpoint_key"])
    finally:
        services.close()


def forged_rotation_bundle(world, bundle: Path) -> tuple[str, int]:
    """Someone with the registrar key but not the checkpoint key appends a rotation to their own
    key (with a cross-signature by that key) and a checkpoint signed by it."""
    thief = signing.generate()
    thief_key = verifier_key_of(world.settings.origin, thief)
    index = world.ledger.size()
    payload = rotation_payload(world.settings.origin, thief, thief_key) | {
        "replaces": world.ledger.checkpoint_key_history()[-1].verifier_key}
    envelope = world.registrar.one("forged", ROTATION_TYPE, WHEN, payload)
    entry = build_entry(index, "2030-01-01T00:00:00.000000Z", envelope["envelopes"][0],
                        canonical_bytes(envelope["envelopes"][0]), envelope["signature"], None)
    with (bundle / "entries.jsonl").open("ab") as handle:
        handle.write(canonical_bytes({"entry": json.loads(entry.leaf), "index": index}) + b"\n")
    leaves = [merkle.leaf_hash(canonical_bytes(json.loads(line)["entry"]))
              for line in (bundle / "entries.jsonl").read_bytes().splitlines()]
    root = merkle.root_of(leaves)
    signed = note.sign_note(note.checkpoint_body(world.settings.origin, index + 1, root), world.settings.origin, thief)
    stored = dict(merkle.append_nodes([], 0, leaves))
    proof = [signing.b64encode(node) for node in merkle.consistency_proof(
        index, index + 1, lambda keys: {key: stored[key] for key in keys})]
    with (bundle / "checkpoints.jsonl").open("a") as handle:
        handle.write(json.dumps({"tree_size": index + 1, "root": signing.b64encode(root), "note": signed,
                                 "signed_at": "2030-01-01T00:00:00+00:00", "consistency_proof": proof}) + "\n")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest.update(tree_size=index + 1, root=signing.b64encode(root))
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    refresh_digests(bundle)
    return thief_key, index


def test_a_stolen_registrar_key_alone_cannot_switch_the_checkpoint_key(rotated, tmp_path):
    bundle = tmp_path / "bundle"
    export_bundle(rotated.ledger, bundle)
    thief_key, index = forged_rotation_bundle(rotated, bundle)
    report = verify_bundle(bundle)
    rules = [failure.detail for failure in report.failures if (failure.index, failure.check) == (index, "rules")]
    assert len(rules) == 1 and "cross-signature is not by the checkpoint key in force" in rules[0], explain(report)
    signature = [failure.detail for failure in report.failures
                 if (failure.index, failure.check) == (index, "checkpoint") and "size" in failure.detail]
    assert f"checkpoint at size {index + 1}" in signature[0], explain(report)
    assert f"the key in force is {rotated.new_verifier_key}" in signature[0] and thief_key not in signature[0]


def test_with_sparse_checkpoints_the_next_one_after_a_rotation_uses_the_new_key(opened):
    settings = Settings.from_environment({"AMANAH_HOME": str(opened.settings.home),
                                          "AMANAH_DATABASE_URL": opened.settings.database_url,
                                          "AMANAH_CHECKPOINT_EVERY_ENTRIES": "100"})
    sparse = Ledger(settings, opened.checkpoint_key, opened.ledger.pseudonym_secret)
    try:
        before = len(sparse.checkpoints())
        sparse.submit(pledge(opened.company, "uncovered", "uncovered"))
        new_key = signing.generate()
        rotate(opened, new_key, ledger=sparse)
        sparse.submit(pledge(opened.company, "after", "after"))
        assert len(sparse.checkpoints()) == before  # none due yet
        signed = sparse.sign_checkpoint()
        assert signed["tree_size"] == sparse.size()
        name, public = note.parse_verifier_key(verifier_key_of(sparse.origin, new_key))
        note.verify_checkpoint(signed["note"], name, public)
        report = verify_database(sparse)
        assert report.ok, explain(report)
    finally:
        sparse.close()
