"""Tampering, on SQLite and PostgreSQL: every change to a signed or hashed thing, in the database
or in an exported bundle, makes verification fail, and the report names the entry and the check
that caught it. An attacker here edits the rows underneath the application (past the database's
own triggers) or the files of a bundle, fixing up whatever is not signed (manifest digests,
renumbered indexes); an operator who also holds the real checkpoint key is caught by a checkpoint
the auditor kept from earlier (`--since-checkpoint`).

The log used by every case (entries 0-3 are genesis, the company, the city, the programme):

    4        a single pledge of Rp7,654,321          checkpoint at size 5
    5..10    a batch of six pledges                  checkpoint at size 11
    11, 12   two single pledges                      checkpoints at sizes 12 and 13
    13       key.added: the company's second key     checkpoint at size 14
    14       key.revoked: the company's first key    checkpoint at size 15
    15       a pledge signed with the second key     checkpoint at size 16
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger import merkle, note, signing
from ledger.bundle import export_bundle, verify_bundle, verify_database
from ledger.canonical import canonical_bytes
from ledger.client import Signer, public_key_b64
from tests.integration.forgery import (
    ATTACKER, BATCH_FIRST, BATCH_LINE, KEY_ADDED, LAST, REGISTRATION, REVOCATION, SIZE, SOLO, assert_named,
    entries_of, explain, failures, never_logged_leaf, refresh_digests, set_in, write_entries,
)
from tests.integration.support import raw_database

def to(value: object) -> Callable[[object], object]:
    return lambda old: value


def flip(base64_text: str) -> str:
    """The same base64 value with one bit changed."""
    raw = bytearray(signing.b64decode(base64_text, "test"))
    raw[0] ^= 0x01
    return signing.b64encode(bytes(raw))


# ---- every field of an entry, in the database and in the bundle ------------------------------

FIELD_EDITS = {
    # name: (entry, path in the entry, change, failures that verify must name)
    "envelope ledger": (SOLO, ("envelope", "ledger"), to("other.example/ledger"), {(SOLO, "envelope")}),
    "envelope type": (SOLO, ("envelope", "type"), to("pledge.cancelled"), {(SOLO, "signature")}),
    "envelope actor": (SOLO, ("envelope", "actor"), to("pemkot-jakut"), {(SOLO, "signature")}),
    "envelope key_id": (SOLO, ("envelope", "key_id"), to("0" * 32), {(SOLO, "signature")}),
    "envelope idempotency_key": (SOLO, ("envelope", "idempotency_key"), to("solo-2"), {(SOLO, "signature")}),
    "envelope sequence in a batch": (BATCH_LINE, ("envelope", "sequence"), lambda sequence: sequence + 1,
                                     {(BATCH_LINE, "signature"), (BATCH_LINE, "batch")}),
    "envelope occurred_at": (SOLO, ("envelope", "occurred_at"), to("2024-12-31T23:59:59Z"), {(SOLO, "signature")}),
    "envelope payload amount": (SOLO, ("envelope", "payload", "amount_rupiah"), lambda amount: amount + 1,
                                {(SOLO, "signature"), (SOLO, "checkpoint")}),
    "entry index": (SOLO, ("index",), to(99), {(SOLO, "order")}),
    # recorded_at is the ledger's, not the author's: the leaf hash and the checkpoints cover it.
    "entry recorded_at": (SOLO, ("recorded_at",), to("2025-01-01T00:00:00.000000Z"),
                          {(SOLO, "recorded_at"), (SOLO, "checkpoint")}),
    "entry signature": (SOLO, ("signature",), flip, {(SOLO, "signature")}),
    "batch path hash": (BATCH_LINE, ("batch", "path", 1), flip, {(BATCH_LINE, "signature")}),
    "batch root": (BATCH_LINE, ("batch", "root"), flip, {(BATCH_LINE, "signature")}),
    # The signature covers the batch root, not the size: a path for size 6 also fits size 7, so this
    # is caught by the batch bookkeeping and by the checkpoint, not by the signature.
    "batch size": (BATCH_LINE, ("batch", "size"), to(7), {(BATCH_LINE, "batch"), (10, "checkpoint")}),
    "registration public key": (REGISTRATION, ("envelope", "payload", "public_key"),
                                to(public_key_b64(ATTACKER)), {(REGISTRATION, "signature"),
                                                               (REGISTRATION, "checkpoint")}),
    "added key's public key": (KEY_ADDED, ("envelope", "payload", "public_key"), to(public_key_b64(ATTACKER)),
                               {(KEY_ADDED, "signature"), (LAST, "signature")}),
    "revocation moved in time (occurred_at)": (REVOCATION, ("envelope", "occurred_at"), to("2026-01-01T00:00:00Z"),
                                               {(REVOCATION, "signature")}),
    "revocation reason": (REVOCATION, ("envelope", "payload", "reason"), to("rotated"), {(REVOCATION, "signature")}),
}


def edit_stored(database, log, position: int, path: tuple, change: Callable) -> None:
    """Rewrite the stored event behind log entry `position` with one field changed. A line of a
    batch is stored without what its batch's lines share (ledger/batch_store.py): its own
    members are changed in place; for the shared ones, the attacker stores the whole changed
    leaf instead, which the ledger reads as it reads rows written before lines were compact."""
    state = json.loads(database.read_state(position))
    if "line" in state and path[0] in state["line"]:
        set_in(state["line"], path, change)
    else:
        [(_, leaf)] = log.ledger.entries(position, 1)
        state = json.loads(leaf)
        set_in(state, path, change)
    database.allow_changes("events")
    database.write_state(position, canonical_bytes(state, check=False))


@pytest.mark.parametrize("case", list(FIELD_EDITS))
def test_a_field_changed_in_the_database_is_named_by_verify(log, tmp_path, case):
    position, path, change, expected = FIELD_EDITS[case]
    with raw_database(log.settings.database_url) as database:
        edit_stored(database, log, position, path, change)
    # The stored leaf no longer hashes to the leaf hash kept in log_nodes.
    assert_named(verify_database(log.ledger), expected | {(position, "subtree")})

    export_bundle(log.ledger, tmp_path / "bundle")  # an export of the altered database fails too
    assert_named(verify_bundle(tmp_path / "bundle"), expected)


@pytest.mark.parametrize("case", list(FIELD_EDITS))
def test_a_field_changed_in_a_bundle_is_named_by_verify(exported_bundle, case):
    position, path, change, expected = FIELD_EDITS[case]
    entries = entries_of(exported_bundle)
    set_in(entries[position], path, change)
    write_entries(exported_bundle, entries)
    refresh_digests(exported_bundle)
    assert_named(verify_bundle(exported_bundle), expected)


# ---- rows added, removed, moved in the database -------------------------------------------------

def change_node(level: int, index: int) -> Callable:
    def change(database, log) -> None:
        database.allow_changes("log_nodes")
        database.execute(f"UPDATE {database.table('log_nodes')} SET hash = ? WHERE node_key = ?",
                         (bytes(32), merkle.node_key(level, index)))
    return change


def change_leaf_hash(index: int) -> Callable:
    """Zero entry `index`'s hash in the log_leaves piece that holds it."""
    def change(database, log) -> None:
        table = database.table("log_leaves")
        first, hashes = database.execute(f"SELECT first_index, hashes FROM {table} WHERE first_index <= ? "
                                         "ORDER BY first_index DESC LIMIT 1", (index,)).fetchone()
        at = (index - int(first)) * 32
        database.allow_changes("log_leaves")
        database.execute(f"UPDATE {table} SET hashes = ? WHERE first_index = ?",
                         (bytes(hashes)[:at] + bytes(32) + bytes(hashes)[at + 32:], first))
    return change


def delete_leaf_piece(first: int) -> Callable:
    def delete(database, log) -> None:
        database.allow_changes("log_leaves")
        database.execute(f"DELETE FROM {database.table('log_leaves')} WHERE first_index = ?", (first,))
    return delete


def insert_leaf_piece(first: int) -> Callable:
    """A piece of one made-up leaf hash inside the batch's piece."""
    def insert(database, log) -> None:
        database.execute(f"INSERT INTO {database.table('log_leaves')} (first_index, hashes) VALUES (?, ?)",
                         (first, bytes(32)))
    return insert


def swap_entries(database, log) -> None:
    """Point log entries 6 and 7 at each other's events."""
    six, seven = database.event_key(6), database.event_key(7)
    database.allow_changes("log_entries")
    table = database.table("log_entries")
    database.execute(f"UPDATE {table} SET originator_version = -1 WHERE idx = 6")
    database.execute(f"UPDATE {table} SET originator_id = ?, originator_version = ? WHERE idx = 7", six)
    database.execute(f"UPDATE {table} SET originator_id = ?, originator_version = ? WHERE idx = 6", seven)


def insert_in_the_middle(database, log) -> None:
    database.shift_entries(12)
    database.insert_entry(12, never_logged_leaf(log.company, 12), like=13)


def append_at_the_end(database, log) -> None:
    database.insert_entry(SIZE, never_logged_leaf(log.second, SIZE), like=LAST)


def delete_entries(*indexes: int) -> Callable:
    def delete(database, log) -> None:
        for index in indexes:
            database.delete_entry(index)
    return delete


def edit_checkpoint_row(tree_size: int, change: Callable[[dict, object], None]) -> Callable:
    """Change the stored checkpoint row of `tree_size` (root and note) with `change(row, log)`."""
    def edit(database, log) -> None:
        table = database.table("log_checkpoints")
        root, text = database.execute(f"SELECT root, note FROM {table} WHERE tree_size = ?", (tree_size,)).fetchone()
        row = {"tree_size": tree_size, "root": signing.b64encode(bytes(root)), "note": text}
        change(row, log)
        database.allow_changes("log_checkpoints")
        database.execute(f"UPDATE {table} SET root = ?, note = ? WHERE tree_size = ?",
                         (signing.b64decode(row["root"], "root"), row["note"], tree_size))
    return edit


def alter_note_signature(row: dict, log) -> None:
    body, _, signature_line = row["note"].rstrip("\n").rpartition("\n")
    dash, name, blob = signature_line.split(" ")
    raw = bytearray(signing.b64decode(blob, "note"))
    raw[-1] ^= 0x01
    row["note"] = f"{body}\n{dash} {name} {signing.b64encode(bytes(raw))}\n"


def fork_signed_by(key_of: Callable) -> Callable[[dict, object], None]:
    """A checkpoint over another history, signed under the log's name by key_of(log)."""
    def fork(row: dict, log) -> None:
        forked_root, origin = bytes(range(32)), log.settings.origin
        row["root"] = signing.b64encode(forked_root)
        row["note"] = note.sign_note(note.checkpoint_body(origin, row["tree_size"], forked_root), origin,
                                     key_of(log))
    return fork


def change_stated_root(row: dict, log) -> None:
    row["root"] = flip(row["root"])


def edit_batch_row(change: Callable[[dict], None]) -> Callable:
    """Change the batch row of entries 5..10 (their signature, root, size and envelope hashes,
    stored once for the six lines, ledger/batch_store.py) with `change(row)`."""
    def edit(database, log) -> None:
        table = database.table("log_batches")
        columns = ("entry_count", "root", "signature", "leaf_hashes")
        found = database.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE first_index = ?",
                                 (BATCH_FIRST,)).fetchone()
        row = dict(zip(columns, found, strict=True))
        row["leaf_hashes"] = bytes(row["leaf_hashes"])
        change(row)
        database.allow_changes("log_batches")
        if row.get("deleted"):
            database.execute(f"DELETE FROM {table} WHERE first_index = ?", (BATCH_FIRST,))
            return
        database.execute(f"UPDATE {table} SET entry_count = ?, root = ?, signature = ?, leaf_hashes = ? "
                         "WHERE first_index = ?", (*(row[name] for name in columns), BATCH_FIRST))
    return edit


def batch_row_set(name: str, change: Callable[[object], object]) -> Callable:
    def change_row(row: dict) -> None:
        row[name] = change(row[name])
    return change_row


def swap_envelope_hashes(hashes: bytes) -> bytes:
    """The hashes of the batch's lines 3 and 4 (entries 8 and 9) in each other's place."""
    return hashes[:96] + hashes[128:160] + hashes[96:128] + hashes[160:]


BATCH_LINES = set(range(BATCH_FIRST, BATCH_FIRST + 6))
REAL_KEY = fork_signed_by(lambda log: log.checkpoint_key)
ATTACKER_KEY = fork_signed_by(lambda log: ATTACKER)

DATABASE_TAMPERING = {
    # name: (tamper(database, log), failures verify_database must name)
    "leaf hash in log_leaves": (change_leaf_hash(SOLO), {(SOLO, "subtree")}),
    "a batch line's leaf hash in log_leaves": (change_leaf_hash(BATCH_FIRST + 3), {(BATCH_FIRST + 3, "subtree")}),
    "the batch's leaf hashes deleted from log_leaves": (delete_leaf_piece(BATCH_FIRST), {(BATCH_FIRST, "subtree")}),
    "a made-up leaf hash inserted in log_leaves": (insert_leaf_piece(BATCH_FIRST + 2), {(BATCH_FIRST + 2, "subtree")}),
    "subtree hash in log_nodes": (change_node(4, 0), {(0, "subtree")}),  # covers entries 0..15
    "two entries swapped in log_entries": (swap_entries, {(6, "order"), (7, "order"), (6, "subtree"),
                                                          (10, "checkpoint")}),
    "an entry and its event deleted": (delete_entries(12), {(12, "order"), (None, "log")}),
    "the key revocation deleted": (delete_entries(REVOCATION), {(REVOCATION, "order")}),
    "an entry inserted in the middle": (insert_in_the_middle, {(12, "subtree"), (12, "checkpoint"), (13, "order")}),
    "an entry appended after the last checkpoint": (append_at_the_end, {(SIZE, "checkpoint"), (SIZE, "subtree")}),
    "the last two entries deleted (truncated)": (delete_entries(LAST, REVOCATION), {(None, "checkpoint")}),
    "checkpoint note signature": (edit_checkpoint_row(11, alter_note_signature), {(10, "checkpoint")}),
    "checkpoint root column": (edit_checkpoint_row(11, change_stated_root), {(10, "checkpoint")}),
    "checkpoint forked, signed by an attacker": (edit_checkpoint_row(11, ATTACKER_KEY), {(10, "checkpoint")}),
    "checkpoint forked, signed with the real key": (edit_checkpoint_row(11, REAL_KEY),
                                                    {(10, "checkpoint"), (10, "consistency")}),
    # What a batch's lines share is stored once: changed, it is changed in every line of the batch.
    "batch root in log_batches": (edit_batch_row(batch_row_set("root", flip)),
                                  {(line, "signature") for line in BATCH_LINES} | {(BATCH_FIRST, "subtree")}),
    "batch signature in log_batches": (edit_batch_row(batch_row_set("signature", flip)),
                                       {(line, "signature") for line in BATCH_LINES} | {(BATCH_FIRST, "subtree")}),
    "batch size in log_batches": (edit_batch_row(batch_row_set("entry_count", lambda size: size + 1)),
                                  {(BATCH_FIRST, "subtree"), (10, "checkpoint")}),
    "envelope hashes in log_batches": (edit_batch_row(batch_row_set("leaf_hashes", swap_envelope_hashes)),
                                       {(BATCH_FIRST, "signature"), (BATCH_FIRST, "subtree")}),
    "batch row deleted": (edit_batch_row(lambda row: row.update(deleted=True)),
                          {(BATCH_FIRST, "entry"), (BATCH_FIRST, "subtree")}),
}


@pytest.mark.parametrize("case", list(DATABASE_TAMPERING))
def test_rows_changed_in_the_database_are_named_by_verify(log, case):
    tamper, expected = DATABASE_TAMPERING[case]
    with raw_database(log.settings.database_url) as database:
        tamper(database, log)
    assert_named(verify_database(log.ledger), expected)


# ---- lines and files of a bundle ----------------------------------------------------------------

def edit_entries(change: Callable[[list[dict], object], None], reindex: bool = False) -> Callable:
    def edit(bundle: Path, log) -> None:
        entries = entries_of(bundle)
        change(entries, log)
        write_entries(bundle, entries, reindex)
    return edit


def swap_lines(first: int) -> Callable[[list, object], None]:
    def swap(entries: list, log) -> None:
        entries[first], entries[first + 1] = entries[first + 1], entries[first]
    return swap


def resign_with_revoked_key(entries: list, log) -> None:
    """The stolen first key signs a pledge, slipped in right after its revocation."""
    entries.insert(LAST, json.loads(never_logged_leaf(log.company, LAST)))


def key_swapped_and_entries_resigned(entries: list, log) -> None:
    """The attacker registers their own key for the company and signs its first pledge again."""
    entries[REGISTRATION]["envelope"]["payload"]["public_key"] = public_key_b64(ATTACKER)
    impostor = Signer(log.company.origin, log.company.actor, ATTACKER)
    envelope = {**entries[SOLO]["envelope"], "key_id": impostor.key_id}
    entries[SOLO]["envelope"] = envelope
    entries[SOLO]["signature"] = signing.b64encode(signing.sign(ATTACKER, canonical_bytes(envelope)))


def edit_checkpoint(tree_size: int, change: Callable[[dict, object], None]) -> Callable:
    def edit(bundle: Path, log) -> None:
        path = bundle / "checkpoints.jsonl"
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        [row] = [row for row in rows if row["tree_size"] == tree_size]
        change(row, log)
        path.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
    return edit


def edit_checkpoint_lines(change: Callable[[list], None]) -> Callable:
    def edit(bundle: Path, log) -> None:
        path = bundle / "checkpoints.jsonl"
        lines = path.read_text().splitlines(keepends=True)
        change(lines)
        path.write_text("".join(lines))
    return edit


def drop_checkpoint(tree_size: int) -> Callable[[list], None]:
    def drop(lines: list) -> None:
        lines[:] = [line for line in lines if json.loads(line)["tree_size"] != tree_size]
    return drop


def swap_checkpoint_lines(lines: list) -> None:
    lines[5], lines[6] = lines[6], lines[5]


def alter_proof(row: dict, log) -> None:
    row["consistency_proof"][0] = flip(row["consistency_proof"][0])


def edit_organisations(change: Callable[[list, object], None]) -> Callable:
    def edit(bundle: Path, log) -> None:
        path = bundle / "organisations.json"
        organisations = json.loads(path.read_text())
        change(organisations, log)
        path.write_text(json.dumps(organisations, indent=1) + "\n")
    return edit


def company_keys(organisations: list, log) -> list:
    [company] = [item for item in organisations if item["organisation"] == log.company.actor]
    return company["keys"]


def edit_manifest(name: str, change: Callable[[object], object]) -> Callable:
    def edit(bundle: Path, log) -> None:
        manifest = json.loads((bundle / "manifest.json").read_text())
        set_in(manifest, name.split(".", 1), change)
        (bundle / "manifest.json").write_text(json.dumps(manifest))
    return edit


BUNDLE_TAMPERING: dict[str, tuple[Callable, set]] = {
    # name: (tamper(bundle, log), failures verify_bundle must name); the manifest's digests are
    # brought up to date afterwards (except in the manifest cases), as an attacker would.
    "two lines swapped": (edit_entries(swap_lines(6)), {(6, "order"), (7, "order")}),
    "a middle line deleted": (edit_entries(lambda entries, log: entries.__delitem__(7)),
                              {(7, "order"), (BATCH_FIRST, "batch")}),  # the batch at 5 lost a line
    "a line duplicated": (edit_entries(lambda entries, log: entries.insert(7, entries[7])), {(8, "order")}),
    "the last lines truncated": (edit_entries(lambda entries, log: entries.__delitem__(slice(-2, None))),
                                 {(None, "checkpoint"), (None, "manifest")}),
    "the key revocation line deleted": (edit_entries(lambda entries, log: entries.__delitem__(REVOCATION)),
                                        {(REVOCATION, "order")}),
    "the key revocation deleted, later entries renumbered": (
        edit_entries(lambda entries, log: entries.__delitem__(REVOCATION), reindex=True),
        {(REVOCATION, "checkpoint"), (None, "checkpoint")}),
    "the key revocation moved after the next entry, renumbered": (
        edit_entries(swap_lines(REVOCATION), reindex=True), {(REVOCATION, "checkpoint")}),
    "a pledge signed with the revoked key slipped in after the revocation": (
        edit_entries(resign_with_revoked_key, reindex=True), {(LAST, "signature")}),
    "the company's key replaced and its pledge signed again by the attacker": (
        edit_entries(key_swapped_and_entries_resigned), {(REGISTRATION, "signature"), (REGISTRATION, "checkpoint")}),
    "checkpoint note signature": (edit_checkpoint(11, alter_note_signature), {(10, "checkpoint")}),
    "checkpoint forked, signed by an attacker": (edit_checkpoint(11, ATTACKER_KEY), {(10, "checkpoint")}),
    "checkpoint forked, signed with the real key": (edit_checkpoint(11, REAL_KEY),
                                                    {(10, "checkpoint"), (10, "consistency"), (11, "consistency")}),
    "checkpoint stated root": (edit_checkpoint(11, change_stated_root), {(10, "checkpoint")}),
    "checkpoint consistency proof": (edit_checkpoint(11, alter_proof), {(10, "consistency")}),
    "a middle checkpoint removed": (edit_checkpoint_lines(drop_checkpoint(11)), {(11, "consistency")}),
    "two checkpoints swapped": (edit_checkpoint_lines(swap_checkpoint_lines), {(None, "checkpoint")}),
    "a key's revoked_at in organisations.json": (
        edit_organisations(lambda organisations, log: set_in(company_keys(organisations, log)[0], ("revoked_at",),
                                                             to(5))), {(None, "organisations")}),
    "a public key in organisations.json": (
        edit_organisations(lambda organisations, log: set_in(company_keys(organisations, log)[1], ("public_key",),
                                                             to(public_key_b64(ATTACKER)))), {(None, "organisations")}),
    "an organisation removed from organisations.json": (
        edit_organisations(lambda organisations, log: organisations.pop()), {(None, "organisations")}),
}

MANIFEST_TAMPERING: dict[str, tuple[Callable, set]] = {
    "manifest origin": (edit_manifest("origin", to("other.example/ledger")), {(None, "manifest")}),
    "manifest checkpoint_key": (edit_manifest("checkpoint_key", to("x+00000000+AAAA")), {(None, "manifest")}),
    "manifest tree_size": (edit_manifest("tree_size", lambda size: size - 1), {(None, "manifest")}),
    "manifest root": (edit_manifest("root", flip), {(None, "manifest")}),
    "manifest sha256 of entries.jsonl": (edit_manifest("sha256.entries.jsonl", to("0" * 64)), {(None, "manifest")}),
    "manifest sha256 of checkpoints.jsonl": (edit_manifest("sha256.checkpoints.jsonl", to("0" * 64)),
                                             {(None, "manifest")}),
    "manifest sha256 of organisations.json": (edit_manifest("sha256.organisations.json", to("0" * 64)),
                                              {(None, "manifest")}),
    "entries.jsonl changed, manifest left alone": (edit_entries(lambda entries, log: set_in(
        entries[SOLO], ("envelope", "payload", "amount_rupiah"), lambda amount: amount + 1)),
        {(None, "manifest"), (SOLO, "signature")}),
}


def test_an_untouched_bundle_verifies(read_only_log, exported_bundle):
    report = verify_bundle(exported_bundle)
    assert report.ok, explain(report)
    assert (report.entries, report.checkpoints) == (SIZE, len(read_only_log.ledger.checkpoints()))
    assert report.root == read_only_log.ledger.root(SIZE)
    pinned = verify_bundle(exported_bundle, pinned_origin=read_only_log.settings.origin,
                           pinned_checkpoint_key=read_only_log.ledger.genesis().payload["checkpoint_key"])
    assert pinned.ok, explain(pinned)


@pytest.mark.parametrize("case", list(BUNDLE_TAMPERING))
def test_tampering_with_a_bundle_is_named_by_verify(read_only_log, exported_bundle, case):
    tamper, expected = BUNDLE_TAMPERING[case]
    tamper(exported_bundle, read_only_log)
    refresh_digests(exported_bundle)
    assert_named(verify_bundle(exported_bundle), expected)


@pytest.mark.parametrize("case", list(MANIFEST_TAMPERING))
def test_tampering_with_the_manifest_is_named_by_verify(read_only_log, exported_bundle, case):
    tamper, expected = MANIFEST_TAMPERING[case]
    tamper(exported_bundle, read_only_log)
    assert_named(verify_bundle(exported_bundle), expected)


def test_the_export_time_is_the_only_manifest_field_nothing_checks(read_only_log, exported_bundle):
    """exported_at is information for people; it is neither signed nor hashed."""
    edit_manifest("exported_at", to("1999-01-01T00:00:00+00:00"))(exported_bundle, read_only_log)
    assert verify_bundle(exported_bundle).ok


def test_a_bundle_of_another_ledger_fails_against_the_pinned_checkpoint_key(read_only_log, exported_bundle):
    stranger = note.verifier_key(read_only_log.settings.origin, signing.public_key_bytes(signing.generate()))
    report = verify_bundle(exported_bundle, pinned_checkpoint_key=stranger)
    assert not report.ok
    assert (0, "checkpoint-key") in failures(report), explain(report)


def test_a_cut_short_checkpoints_file_is_reported_not_crashed_on(read_only_log, exported_bundle):
    """A partial copy ends mid-line; verify must report it like any other damage."""
    path = exported_bundle / "checkpoints.jsonl"
    path.write_bytes(path.read_bytes()[:-40])
    report = verify_bundle(exported_bundle)
    assert not report.ok
    assert "checkpoint" in {failure.check for failure in report.failures}, explain(report)


def test_an_entry_the_ledger_never_logged_cannot_be_appended_to_a_bundle(read_only_log, exported_bundle):
    """The company signs a pledge the ledger never accepted and appends it after the last signed
    checkpoint (adjusting the manifest): no checkpoint covers it, so the bundle must not verify."""
    with (exported_bundle / "entries.jsonl").open("ab") as handle:
        handle.write(b'{"entry":' + never_logged_leaf(read_only_log.second, SIZE) + b',"index":'
                     + str(SIZE).encode() + b"}\n")
    manifest = json.loads((exported_bundle / "manifest.json").read_text())
    (exported_bundle / "manifest.json").write_text(json.dumps({**manifest, "tree_size": SIZE + 1}))
    refresh_digests(exported_bundle)
    assert_named(verify_bundle(exported_bundle), {(SIZE, "checkpoint")})
