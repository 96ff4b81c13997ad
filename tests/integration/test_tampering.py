"""Tampering, on SQLite and PostgreSQL: every change to the database or to an exported bundle
makes verification fail, and the report names the entry and the check that caught it.

The log used by every case (entries 0-3 are genesis, the company, the city, the programme):

    4        a single pledge of Rp7,654,321          checkpoint at size 5
    5..10    a batch of six pledges                  checkpoint at size 11
    11, 12   two single pledges                      checkpoints at sizes 12 and 13
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger import merkle, note, signing
from ledger.bundle import export_bundle, verify_bundle, verify_database
from ledger.canonical import canonical_bytes
from ledger.entry import build_entry
from ledger.verify import Report
from tests.integration.support import pledge, pledge_batch, raw_database

SOLO, BATCH_LINE, BATCH_FIRST, SIZE = 4, 8, 5, 13  # BATCH_LINE is sequence 3 of the batch
SOLO_AMOUNT = "7654321"


@pytest.fixture
def log(opened):
    ledger, company = opened.ledger, opened.company
    assert ledger.submit(pledge(company, "solo", "solo", int(SOLO_AMOUNT)))["first_index"] == SOLO
    assert ledger.submit(pledge_batch(company, "batch", 6))["first_index"] == BATCH_FIRST
    ledger.submit(pledge(company, "after-1", "after-1"))
    ledger.submit(pledge(company, "after-2", "after-2"))
    assert ledger.size() == SIZE and verify_database(ledger).ok
    return opened


def failures(report: Report) -> set[tuple[int | None, str]]:
    return {(failure.index, failure.check) for failure in report.failures}


def explain(report: Report) -> list[str]:
    return [str(failure) for failure in report.failures]


# ---- tampering with the database ----------------------------------------------------------------


def change_amount_digit(database) -> None:
    state = database.read_state(SOLO)
    assert state.count(SOLO_AMOUNT.encode()) == 1
    database.allow_changes("events")
    database.write_state(SOLO, state.replace(SOLO_AMOUNT.encode(), b"7654329"))


def change_node(level: int, index: int) -> Callable:
    def change(database) -> None:
        database.allow_changes("log_nodes")
        database.execute(f"UPDATE {database.table('log_nodes')} SET hash = ? WHERE node_key = ?",
                         (bytes(32), merkle.node_key(level, index)))
    return change


DATABASE_TAMPERING = {
    # name: (tamper, failures verify_database must name, failures verify_bundle must name after export)
    "event amount digit": (change_amount_digit, {(SOLO, "signature"), (SOLO, "checkpoint"), (SOLO, "subtree")},
                           {(SOLO, "signature"), (SOLO, "checkpoint")}),
    "leaf hash in log_nodes": (change_node(0, SOLO), {(SOLO, "subtree")}, None),
    "subtree hash in log_nodes": (change_node(2, 2), {(8, "subtree")}, None),  # covers entries 8..11
}


@pytest.mark.parametrize("case", list(DATABASE_TAMPERING))
def test_tampering_with_the_database_is_named_by_verify(log, tmp_path, case):
    tamper, expected, expected_in_bundle = DATABASE_TAMPERING[case]
    with raw_database(log.settings.database_url) as database:
        tamper(database)

    report = verify_database(log.ledger)
    assert not report.ok
    assert expected <= failures(report), explain(report)

    if expected_in_bundle:  # an export of the altered database does not verify either
        export_bundle(log.ledger, tmp_path / "bundle")
        report = verify_bundle(tmp_path / "bundle")
        assert not report.ok
        assert expected_in_bundle <= failures(report), explain(report)


# ---- tampering with an exported bundle --------------------------------------------------------


def read_lines(bundle: Path) -> list[bytes]:
    return (bundle / "entries.jsonl").read_bytes().splitlines(keepends=True)


def write_lines(bundle: Path, lines: list[bytes]) -> None:
    (bundle / "entries.jsonl").write_bytes(b"".join(lines))


def edit_field(position: int, path: tuple, change: Callable[[object], object]) -> Callable:
    """Change one field of the entry on line `position` of entries.jsonl, e.g. path
    ("envelope", "payload", "amount_rupiah"); `change` maps the old value to the new."""
    def edit(bundle: Path, world) -> None:
        lines = read_lines(bundle)
        line = json.loads(lines[position])
        *parents, last = path
        container = line["entry"]
        for name in parents:
            container = container[name]
        container[last] = change(container[last])
        lines[position] = json.dumps(line).encode() + b"\n"
        write_lines(bundle, lines)
    return edit


def to(value: object) -> Callable[[object], object]:
    return lambda old: value


def flip(base64_text: str) -> str:
    """The same base64 value with one bit changed."""
    raw = bytearray(signing.b64decode(base64_text, "test"))
    raw[0] ^= 0x01
    return signing.b64encode(bytes(raw))


def edit_lines(change: Callable[[list[bytes]], None]) -> Callable:
    def edit(bundle: Path, world) -> None:
        lines = read_lines(bundle)
        change(lines)
        write_lines(bundle, lines)
    return edit


def swap(lines: list[bytes]) -> None:
    lines[6], lines[7] = lines[7], lines[6]


def edit_checkpoint(tree_size: int, change: Callable[[dict, object], None]) -> Callable:
    def edit(bundle: Path, world) -> None:
        path = bundle / "checkpoints.jsonl"
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        [row] = [row for row in rows if row["tree_size"] == tree_size]
        change(row, world)
        path.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
    return edit


def alter_note_signature(row: dict, world) -> None:
    body, _, signature_line = row["note"].rstrip("\n").rpartition("\n")
    dash, name, blob = signature_line.split(" ")
    raw = bytearray(signing.b64decode(blob, "note"))
    raw[-1] ^= 0x01
    row["note"] = f"{body}\n{dash} {name} {signing.b64encode(bytes(raw))}\n"


def fork_signed_by_attacker(row: dict, world) -> None:
    """A checkpoint over another history, signed under the log's name with an attacker's key."""
    forked_root = bytes(range(32))
    origin = world.settings.origin
    row["root"] = signing.b64encode(forked_root)
    row["note"] = note.sign_note(note.checkpoint_body(origin, row["tree_size"], forked_root), origin,
                                 signing.generate())


def revoke_in_organisations_json(bundle: Path, world) -> None:
    path = bundle / "organisations.json"
    organisations = json.loads(path.read_text())
    [company] = [item for item in organisations if item["organisation"] == world.company.actor]
    company["keys"][0]["revoked_at"] = 5
    path.write_text(json.dumps(organisations, indent=1) + "\n")


BUNDLE_TAMPERING: dict[str, tuple[Callable, set]] = {
    # name: (tamper, failures verify_bundle must name)
    "payload amount": (edit_field(SOLO, ("envelope", "payload", "amount_rupiah"), lambda amount: amount + 1),
                       {(SOLO, "signature"), (SOLO, "checkpoint")}),
    "type": (edit_field(SOLO, ("envelope", "type"), to("pledge.cancelled")), {(SOLO, "signature")}),
    "actor": (edit_field(SOLO, ("envelope", "actor"), to("pemkot-jakut")), {(SOLO, "signature")}),
    "occurred_at": (edit_field(SOLO, ("envelope", "occurred_at"), to("2024-12-31T23:59:59Z")),
                    {(SOLO, "signature")}),
    "key_id": (edit_field(SOLO, ("envelope", "key_id"), to("0" * 32)), {(SOLO, "signature")}),
    "idempotency_key": (edit_field(SOLO, ("envelope", "idempotency_key"), to("solo-2")), {(SOLO, "signature")}),
    "sequence in a batch": (edit_field(BATCH_LINE, ("envelope", "sequence"), lambda sequence: sequence + 1),
                            {(BATCH_LINE, "signature"), (BATCH_LINE, "batch")}),
    "entry signature": (edit_field(SOLO, ("signature",), flip), {(SOLO, "signature")}),
    "batch path hash": (edit_field(BATCH_LINE, ("batch", "path", 1), flip), {(BATCH_LINE, "signature")}),
    "batch root": (edit_field(BATCH_LINE, ("batch", "root"), flip), {(BATCH_LINE, "signature")}),
    # The signature covers the batch root, not the size: a path for size 6 also fits size 7, so this
    # is caught by the batch bookkeeping and by the checkpoint, not by the signature.
    "batch size": (edit_field(BATCH_LINE, ("batch", "size"), to(7)),
                   {(BATCH_LINE, "batch"), (10, "checkpoint")}),
    "two lines reordered": (edit_lines(swap), {(6, "order"), (7, "order")}),
    "a middle line deleted": (edit_lines(lambda lines: lines.__delitem__(7)), {(7, "order")}),
    "a line duplicated": (edit_lines(lambda lines: lines.insert(7, lines[7])), {(8, "order")}),
    "last lines truncated": (edit_lines(lambda lines: lines.__delitem__(slice(-2, None))),
                             {(None, "checkpoint"), (None, "manifest")}),
    "checkpoint note signature": (edit_checkpoint(11, alter_note_signature), {(10, "checkpoint")}),
    "checkpoint forked and signed by an attacker": (edit_checkpoint(11, fork_signed_by_attacker),
                                                    {(10, "checkpoint")}),
    "a key's revoked_at in organisations.json": (revoke_in_organisations_json, {(None, "organisations")}),
}


@pytest.fixture
def bundle(log, tmp_path) -> Path:
    directory = tmp_path / "bundle"
    manifest = export_bundle(log.ledger, directory)
    assert manifest["tree_size"] == SIZE
    return directory


def test_an_untouched_bundle_verifies(log, bundle):
    report = verify_bundle(bundle)
    assert report.ok, explain(report)
    assert (report.entries, report.checkpoints) == (SIZE, len(log.ledger.checkpoints()))
    assert report.root == log.ledger.root(SIZE)
    pinned = verify_bundle(bundle, pinned_origin=log.settings.origin,
                           pinned_checkpoint_key=log.ledger.genesis().payload["checkpoint_key"])
    assert pinned.ok, explain(pinned)


@pytest.mark.parametrize("case", list(BUNDLE_TAMPERING))
def test_tampering_with_a_bundle_is_named_by_verify(log, bundle, case):
    tamper, expected = BUNDLE_TAMPERING[case]
    tamper(bundle, log)
    report = verify_bundle(bundle)
    assert not report.ok
    assert expected <= failures(report), explain(report)


def test_a_bundle_of_another_ledger_fails_against_the_pinned_checkpoint_key(log, bundle):
    stranger = note.verifier_key(log.settings.origin, signing.public_key_bytes(signing.generate()))
    report = verify_bundle(bundle, pinned_checkpoint_key=stranger)
    assert not report.ok
    assert (0, "checkpoint-key") in failures(report), explain(report)


def test_a_cut_short_checkpoints_file_is_reported_not_crashed_on(log, bundle):
    """A partial copy ends mid-line; verify must report it like any other damage."""
    path = bundle / "checkpoints.jsonl"
    path.write_bytes(path.read_bytes()[:-40])
    report = verify_bundle(bundle)
    assert not report.ok
    assert "checkpoint" in {failure.check for failure in report.failures}, explain(report)


def test_an_entry_the_ledger_never_logged_cannot_be_appended_to_a_bundle(log, bundle):
    """The company signs a pledge the ledger never accepted and appends it after the last signed
    checkpoint (adjusting the manifest): no checkpoint covers it, so the bundle must not verify."""
    document = pledge(log.company, "never-logged", "never-logged", 900_000_000)
    [envelope] = document["envelopes"]
    entry = build_entry(SIZE, "2099-01-01T00:00:00.000001Z", envelope, canonical_bytes(envelope),
                        document["signature"], None)
    with (bundle / "entries.jsonl").open("ab") as handle:
        handle.write(b'{"entry":' + entry.leaf + b',"index":' + str(SIZE).encode() + b"}\n")
    manifest = json.loads((bundle / "manifest.json").read_text())
    (bundle / "manifest.json").write_text(json.dumps({**manifest, "tree_size": SIZE + 1}))

    report = verify_bundle(bundle)
    assert not report.ok, "an entry no signed checkpoint covers was accepted"
    assert {(SIZE, "checkpoint"), (None, "checkpoint")} & failures(report), explain(report)
