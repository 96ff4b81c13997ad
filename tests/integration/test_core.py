"""The ledger core on SQLite and PostgreSQL: signed submissions, refusals that store nothing,
idempotency, the append-only database, checkpoints and proofs, and tampering caught by verify."""

from __future__ import annotations

import base64
import json
import sqlite3

import psycopg
import pytest

from ledger import merkle, note, payloads, signing
from ledger.bundle import export_bundle, verify_bundle, verify_database
from ledger.client import Signer, public_key_b64
from ledger.errors import (
    BadSignature, IdempotencyConflict, InvalidInput, LedgerAlreadyInitialised, NotPermitted, RevokedKey,
    RuleViolation, UnknownActor, UnknownKey,
)
from tests.conftest import genesis_submission

PROGRAMME = "sertakan-2025"


@pytest.fixture
def opened(world):
    city = world.register("pemkot", "city")
    world.ledger.submit(city.one("open", "programme.opened", "2025-01-02T00:00:00Z",
                                 payloads.programme_opened(PROGRAMME, 2025)))
    return world


def pledge(signer: Signer, key: str, pledge_id: str, amount: int = 5_000_000) -> dict:
    return signer.one(key, "pledge.made", "2025-02-01T00:00:00Z", payloads.pledge(PROGRAMME, pledge_id, amount))


def state(world) -> tuple:
    checkpoint = world.ledger.latest_checkpoint()
    return world.ledger.size(), checkpoint["tree_size"], checkpoint["root"]


def test_a_pledge_and_a_batch_are_stored_with_a_checkpoint_that_includes_them(opened):
    single = opened.ledger.submit(pledge(opened.company, "k1", "p-1"))
    batch = opened.ledger.submit(opened.company.submission("k2", [
        ("pledge.made", "2025-02-01T00:00:00Z", payloads.pledge(PROGRAMME, f"b-{n}", 1_000 + n)) for n in range(300)]))
    assert single["count"] == 1 and batch["count"] == 300
    assert batch["first_index"] == single["last_index"] + 1
    assert batch["checkpoint"]["tree_size"] == batch["last_index"] + 1
    other = opened.reopen()
    try:
        assert other.size() == opened.ledger.size()
        assert other.root(other.size()) == base64.b64decode(batch["checkpoint"]["root"])
    finally:
        other.close()


def test_replay_returns_the_original_and_a_changed_replay_is_refused(opened):
    document = pledge(opened.company, "same-key", "p-1")
    first = opened.ledger.submit(document)
    before = state(opened)
    again = opened.ledger.submit(document)
    assert again["replayed"] and again["first_index"] == first["first_index"]
    assert state(opened) == before
    with pytest.raises(IdempotencyConflict) as refused:
        opened.ledger.submit(pledge(opened.company, "same-key", "p-2"))
    assert "same-key" in str(refused.value)
    assert state(opened) == before


@pytest.mark.parametrize("attack", ["forged", "unregistered-key", "other-orgs-key", "wrong-role", "unknown-actor",
                                    "changed-after-signing", "wrong-origin"])
def test_refused_submissions_store_nothing(opened, attack):
    before = state(opened)
    company = opened.company
    expected: type = BadSignature
    if attack == "forged":
        document = pledge(company, "k", "p-1")
        raw = bytearray(base64.b64decode(document["signature"]))
        raw[10] ^= 0xFF
        document["signature"] = base64.b64encode(bytes(raw)).decode()
    elif attack == "unregistered-key":
        document, expected = pledge(Signer(company.origin, company.actor, signing.generate()), "k", "p-1"), UnknownKey
    elif attack == "other-orgs-key":
        thief = Signer(company.origin, company.actor, opened.registrar.private_key)
        document, expected = pledge(thief, "k", "p-1"), UnknownKey
    elif attack == "wrong-role":
        document, expected = company.one("k", "organisation.registered", "2025-01-02T00:00:00Z", {
            "organisation": "pt-palsu", "legal_name": "PT Palsu", "kind": "company",
            "public_key": public_key_b64(signing.generate())}), NotPermitted
    elif attack == "unknown-actor":
        document, expected = pledge(Signer(company.origin, "pt-unknown", signing.generate()), "k", "p-1"), UnknownActor
    elif attack == "changed-after-signing":
        document = pledge(company, "k", "p-1")
        document["envelopes"][0]["payload"]["amount_rupiah"] = 9_000_000
    else:
        document, expected = pledge(Signer("another.example/log", company.actor, company.private_key), "k", "p-1"), InvalidInput
    with pytest.raises(expected):
        opened.ledger.submit(document)
    assert state(opened) == before


@pytest.mark.parametrize("bad_line", ["zero", "too-large", "duplicate", "float"])
def test_a_batch_with_one_bad_line_is_refused_whole(opened, bad_line):
    before = state(opened)
    events = [("pledge.made", "2025-02-01T00:00:00Z", payloads.pledge(PROGRAMME, f"b-{n}", 1_000)) for n in range(50)]
    if bad_line in ("zero", "duplicate"):
        events[37] = ("pledge.made", "2025-02-01T00:00:00Z",
                      payloads.pledge(PROGRAMME, "b-3" if bad_line == "duplicate" else "b-37", 0 if bad_line == "zero" else 5))
    document = opened.company.submission("batch", events)
    if bad_line in ("too-large", "float"):  # our client refuses these; a hostile one would not
        document["envelopes"][37]["payload"]["amount_rupiah"] = 2**53 if bad_line == "too-large" else 1.5
        encoded = [json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()
                   for envelope in document["envelopes"]]  # and signs them
        root = merkle.root_of([merkle.leaf_hash(data) for data in encoded])
        document["signature"] = signing.b64encode(signing.sign(opened.company.private_key, root))
    with pytest.raises((InvalidInput, RuleViolation)) as refused:
        opened.ledger.submit(document)
    assert "envelopes[37]" in (refused.value.field or "") or bad_line == "duplicate"
    assert state(opened) == before


def test_revoked_and_rotated_keys(opened):
    registrar, company = opened.registrar, opened.company
    second = signing.generate()
    opened.ledger.submit(registrar.one("add", "key.added", "2025-01-03T00:00:00Z", {
        "organisation": company.actor, "public_key": public_key_b64(second)}))
    opened.ledger.submit(registrar.one("revoke", "key.revoked", "2025-01-03T00:00:00Z", {
        "organisation": company.actor, "key_id": company.key_id, "reason": "laptop stolen"}))
    with pytest.raises(RevokedKey):
        opened.ledger.submit(pledge(company, "k1", "p-1"))
    fresh = Signer(company.origin, company.actor, second)
    opened.ledger.submit(pledge(fresh, "k2", "p-2"))
    third = signing.generate()
    opened.ledger.submit(registrar.one("rotate", "key.rotated", "2025-01-04T00:00:00Z", {
        "organisation": company.actor, "public_key": public_key_b64(third), "replaces": fresh.key_id}))
    with pytest.raises(RevokedKey):
        opened.ledger.submit(pledge(fresh, "k3", "p-3"))
    opened.ledger.submit(pledge(Signer(company.origin, company.actor, third), "k4", "p-4"))
    assert verify_database(opened.ledger).ok


def test_genesis_happens_once(opened):
    original = genesis_submission(opened.settings, opened.registrar, opened.checkpoint_key)
    assert opened.ledger.submit(original)["replayed"]  # the same signed genesis is a replay
    second = opened.registrar.one("genesis-again", "ledger.created", "2025-01-01T00:00:00Z",
                                  original["envelopes"][0]["payload"])
    with pytest.raises(LedgerAlreadyInitialised):
        opened.ledger.submit(second)


def test_every_checkpoint_is_signed_and_consistent_with_the_next_and_proofs_verify(opened):
    for number in range(5):
        opened.ledger.submit(pledge(opened.company, f"k{number}", f"p-{number}"))
    checkpoints = opened.ledger.checkpoints()
    sizes = [checkpoint["tree_size"] for checkpoint in checkpoints]
    assert sizes == sorted(set(sizes)) and sizes[-1] == opened.ledger.size()
    public = signing.public_key_bytes(opened.checkpoint_key)
    for earlier, later in zip(checkpoints, checkpoints[1:]):
        note.verify_checkpoint(later["note"], opened.ledger.origin, public)
        proof = opened.ledger.consistency_proof(earlier["tree_size"], later["tree_size"])
        assert merkle.verify_consistency(earlier["tree_size"], later["tree_size"],
                                         [base64.b64decode(h) for h in proof["proof"]],
                                         base64.b64decode(earlier["root"]), base64.b64decode(later["root"]))
    size = opened.ledger.size()
    for index, leaf in opened.ledger.entries(0, size):
        proof = opened.ledger.inclusion_proof(index, size)
        assert merkle.verify_inclusion(merkle.leaf_hash(leaf), index, size,
                                       [base64.b64decode(h) for h in proof["proof"]], opened.ledger.root(size))


def _connect(world):
    url = world.settings.database_url
    if url.startswith("sqlite"):
        return sqlite3.connect(url.removeprefix("sqlite:///")), "stored_events", ""
    schema = url.split("schema=")[1]
    return psycopg.connect(url.split("?")[0], autocommit=True), "amanah_events", f'"{schema}".'


@pytest.mark.parametrize("table", ["events", "log_entries", "log_nodes", "log_leaves", "log_checkpoints",
                                   "submissions", "log_batches"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET {c} = {c}", "DELETE FROM {t}"])
def test_the_database_refuses_to_change_history(opened, table, statement):
    opened.ledger.submit(opened.company.submission("a-batch", [  # a row in each table (16: a stored subtree)
        ("pledge.made", "2025-02-01T00:00:00Z", payloads.pledge(PROGRAMME, f"b-{n}", 1_000 + n)) for n in range(16)]))
    connection, events, prefix = _connect(opened)
    name = prefix + (events if table == "events" else table)
    column = {"events": "topic", "log_entries": "originator_version", "log_nodes": "hash", "log_leaves": "hashes",
              "log_checkpoints": "note", "submissions": "digest", "log_batches": "root"}[table]
    try:
        with pytest.raises(Exception, match="append-only"):
            connection.execute(statement.format(t=name, c=column))
    finally:
        connection.close()


def _tamper_database(world, sql_sqlite: str, sql_postgres: str) -> None:
    connection, events, prefix = _connect(world)
    try:
        if isinstance(connection, sqlite3.Connection):
            for trigger in ("stored_events_refuse_update", "log_leaves_refuse_update"):
                connection.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            connection.execute(sql_sqlite)
            connection.commit()
        else:
            connection.execute(f"ALTER TABLE {prefix}{events} DISABLE TRIGGER ALL")
            connection.execute(f"ALTER TABLE {prefix}log_leaves DISABLE TRIGGER ALL")
            connection.execute(sql_postgres.format(p=prefix, events=events))
    finally:
        connection.close()


def test_an_edited_event_row_is_caught_by_verify_db(opened):
    result = opened.ledger.submit(pledge(opened.company, "k", "p-1", 5_000_000))
    index = result["first_index"]
    _tamper_database(opened, "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), '5000000', '9000000') "
                     "AS BLOB) WHERE CAST(state AS TEXT) LIKE '%5000000%'",
                     "UPDATE {p}{events} SET state = convert_to(replace(convert_from(state, 'UTF8'), '5000000', "
                     "'9000000'), 'UTF8') WHERE convert_from(state, 'UTF8') LIKE '%5000000%'")
    fresh = opened.reopen()
    try:
        report = verify_database(fresh)
    finally:
        fresh.close()
    checks = {(failure.index, failure.check) for failure in report.failures}
    assert not report.ok
    assert (index, "signature") in checks and (index, "subtree") in checks


def test_an_edited_leaf_hash_is_caught_by_verify_db(opened):
    opened.ledger.submit(pledge(opened.company, "k", "p-1"))
    _tamper_database(opened, "UPDATE log_leaves SET hashes = zeroblob(32) WHERE first_index = 1",
                     "UPDATE {p}log_leaves SET hashes = decode(repeat('00', 32), 'hex') WHERE first_index = 1")
    report = verify_database(opened.ledger)
    assert not report.ok and any(failure.check == "subtree" and failure.index == 1 for failure in report.failures)


def _bundle(world, tmp_path):
    for number in range(3):
        world.ledger.submit(pledge(world.company, f"k{number}", f"p-{number}"))
    world.ledger.submit(world.company.submission("batch", [
        ("pledge.made", "2025-02-01T00:00:00Z", payloads.pledge(PROGRAMME, f"b-{n}", 1_000 + n)) for n in range(6)]))
    directory = tmp_path / "bundle"
    export_bundle(world.ledger, directory, bundle_format=1)  # the edits below address format 1's lines
    return directory


def _edit_line(directory, position, change):
    path = directory / "entries.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    value = json.loads(lines[position])
    change(value["entry"])
    lines[position] = json.dumps(value).encode() + b"\n"
    path.write_bytes(b"".join(lines))


TAMPERS = {
    "amount": (lambda e: e["envelope"]["payload"].__setitem__("amount_rupiah", 1), {"signature", "checkpoint"}),
    "type": (lambda e: e["envelope"].__setitem__("type", "pledge.amended"), {"signature"}),
    "actor": (lambda e: e["envelope"].__setitem__("actor", "registrar"), {"signature"}),
    "occurred_at": (lambda e: e["envelope"].__setitem__("occurred_at", "2024-01-01T00:00:00Z"), {"signature"}),
    "signature": (lambda e: e.__setitem__("signature", base64.b64encode(b"\x01" * 64).decode()), {"signature"}),
    "batch_path": (lambda e: e["batch"]["path"].__setitem__(0, base64.b64encode(b"\x00" * 32).decode()), {"signature"}),
    "batch_root": (lambda e: e["batch"].__setitem__("root", base64.b64encode(b"\x00" * 32).decode()), {"signature"}),
    "index": (lambda e: e.__setitem__("index", e["index"] + 1), {"order"}),
}


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_a_tampered_bundle_fails_verify_and_names_the_entry(opened, tmp_path, name):
    directory = _bundle(opened, tmp_path)
    assert verify_bundle(directory).ok
    position = opened.ledger.size() - 2  # a line of the batch
    change, expected = TAMPERS[name]
    _edit_line(directory, position, change)
    report = verify_bundle(directory)
    assert not report.ok
    named = {failure.check for failure in report.failures if failure.index == position}
    assert expected & named, [str(failure) for failure in report.failures]


@pytest.mark.parametrize("edit", ["reorder", "delete", "insert", "truncate", "forked-checkpoint"])
def test_log_shape_attacks_on_a_bundle_are_named(opened, tmp_path, edit):
    directory = _bundle(opened, tmp_path)
    path = directory / "entries.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    if edit == "reorder":
        lines[3], lines[4] = lines[4], lines[3]
    elif edit == "delete":
        del lines[3]
    elif edit == "insert":
        lines.insert(3, lines[3])
    elif edit == "truncate":
        lines = lines[:-2]
    if edit == "forked-checkpoint":
        checkpoints = (directory / "checkpoints.jsonl").read_text().splitlines()
        last = json.loads(checkpoints[-1])
        attacker = signing.generate()
        last["note"] = note.sign_note(note.checkpoint_body(opened.ledger.origin, last["tree_size"], bytes(32)),
                                      opened.ledger.origin, attacker)
        checkpoints[-1] = json.dumps(last)
        (directory / "checkpoints.jsonl").write_text("\n".join(checkpoints) + "\n")
    else:
        path.write_bytes(b"".join(lines))
    report = verify_bundle(directory)
    assert not report.ok
    checks = {failure.check for failure in report.failures}
    expected = {"reorder": "order", "delete": "order", "insert": "order", "truncate": "checkpoint",
                "forked-checkpoint": "checkpoint"}[edit]
    assert expected in checks, [str(failure) for failure in report.failures]
    if edit in ("reorder", "delete", "insert"):  # the first line out of place is named
        first_wrong = 4 if edit == "insert" else 3
        assert any(failure.index == first_wrong and failure.check == "order" for failure in report.failures)
