"""Bundle format 2: what only it can be tampered with (a submission record's shared members, its
envelope lines moved, dropped or counted wrong, the record itself dropped or duplicated) is
named by verify at the entry it concerns, and an untouched export verifies like format 1, with
the same root, in fewer bytes. (Every tampering case of tests/integration/test_tampering.py
runs on format 2 too: its `bundle` fixture exports both formats.)

The `log` fixture in format 2, line by line: lines 0-4 are entries 0-4 written whole, line 5 the
record of the batch of six pledges, lines 6-11 its envelope lines (entries 5-10), lines 12-16
entries 11-15 written whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.bundle import FORMAT_2, export_bundle, verify_bundle
from ledger.canonical import canonical_bytes
from ledger.errors import InvalidInput
from tests.integration.forgery import BATCH_FIRST, BATCH_LINE, SIZE, assert_named, explain, refresh_digests
from tests.integration.support import pledge, pledge_batch
from tests.integration.test_tampering import flip, to

RECORD = BATCH_FIRST  # the record's line number: entries before it are one line each
BATCH_END = BATCH_FIRST + 5  # the batch's last entry (its size is 6)


def line_of(entry: int) -> int:
    """The line of an entry of the batch (one line after its record)."""
    return entry + 1


def read_lines(bundle: Path) -> list[dict]:
    return [json.loads(line) for line in (bundle / "entries.jsonl").read_bytes().splitlines()]


def write_lines(bundle: Path, lines: list[dict]) -> None:
    (bundle / "entries.jsonl").write_bytes(b"".join(canonical_bytes(line, check=False) + b"\n" for line in lines))
    refresh_digests(bundle)


@pytest.fixture
def bundle2(log, tmp_path) -> Path:
    directory = tmp_path / "bundle2"
    export_bundle(log.ledger, directory)  # format 2 is the default
    return directory


def record(path: tuple, change: Callable) -> Callable[[list[dict]], None]:
    def edit(lines: list[dict]) -> None:
        value = lines[RECORD]["submission"]
        *parents, last = path
        for name in parents:
            value = value[name]
        value[last] = change(value[last])
    return edit


def envelope_line(entry: int, name: str, change: Callable) -> Callable[[list[dict]], None]:
    def edit(lines: list[dict]) -> None:
        envelope = lines[line_of(entry)]["envelope"]
        if name == "amount_rupiah":
            envelope["payload"][name] = change(envelope["payload"][name])
        else:
            envelope[name] = change(envelope[name])
    return edit


def swap(first: int, second: int) -> Callable[[list[dict]], None]:
    def edit(lines: list[dict]) -> None:
        lines[first], lines[second] = lines[second], lines[first]
    return edit


def delete(number: int) -> Callable[[list[dict]], None]:
    return lambda lines: lines.__delitem__(number)


def duplicate(number: int) -> Callable[[list[dict]], None]:
    return lambda lines: lines.insert(number, lines[number])


def move(number: int, to_number: int) -> Callable[[list[dict]], None]:
    def edit(lines: list[dict]) -> None:
        lines.insert(to_number, lines.pop(number))
    return edit


FORMAT_2_TAMPERING: dict[str, tuple[Callable[[list[dict]], None], set]] = {
    # name: (change to the parsed lines, failures verify must name)
    "shared actor": (record(("envelope", "actor"), to("pemkot-jakut")), {(BATCH_FIRST, "signature")}),
    "shared key_id": (record(("envelope", "key_id"), to("0" * 32)), {(BATCH_FIRST, "signature")}),
    "shared idempotency_key": (record(("envelope", "idempotency_key"), to("other")), {(BATCH_FIRST, "signature")}),
    "shared ledger": (record(("envelope", "ledger"), to("other.example/ledger")), {(BATCH_FIRST, "envelope")}),
    "shared signature": (record(("signature",), flip), {(BATCH_FIRST, "signature")}),
    "shared batch root": (record(("batch", "root"), flip), {(BATCH_FIRST, "signature")}),
    "shared batch size": (record(("batch", "size"), to(7)), {(BATCH_FIRST, "batch"), (BATCH_END, "checkpoint")}),
    # recorded_at is not signed: the leaf hashes and the checkpoint cover it.
    "shared recorded_at": (record(("recorded_at",), to("2025-01-01T00:00:00.000000Z")),
                           {(BATCH_FIRST, "recorded_at"), (BATCH_END, "checkpoint")}),
    "an envelope line's amount": (envelope_line(BATCH_LINE, "amount_rupiah", lambda amount: amount + 1),
                                  {(BATCH_FIRST, "signature"), (BATCH_LINE, "signature"), (BATCH_END, "checkpoint")}),
    "an envelope line's sequence": (envelope_line(BATCH_LINE, "sequence", lambda sequence: sequence + 1),
                                    {(BATCH_FIRST, "signature"), (BATCH_LINE, "batch")}),
    "an envelope line's type": (envelope_line(BATCH_LINE, "type", to("pledge.cancelled")),
                                {(BATCH_FIRST, "signature")}),
    "two envelope lines swapped": (swap(line_of(6), line_of(7)), {(BATCH_FIRST, "signature"), (6, "order")}),
    "an envelope line dropped": (delete(line_of(BATCH_LINE)), {(BATCH_FIRST, "batch"), (BATCH_LINE, "order")}),
    "an envelope line duplicated": (duplicate(line_of(BATCH_LINE)), {(BATCH_FIRST, "batch"), (BATCH_LINE + 1, "order")}),
    "an envelope line moved out of its submission": (move(line_of(BATCH_LINE), 14),
                                                     {(BATCH_FIRST, "batch"), (BATCH_LINE, "order")}),
    "the submission record dropped": (delete(RECORD), {(entry, "entry") for entry in range(BATCH_FIRST, BATCH_END + 1)}),
    "the submission record duplicated": (duplicate(RECORD), {(BATCH_FIRST, "batch")}),
}


def test_an_untouched_format_2_bundle_verifies_as_format_1_does(log, bundle2, tmp_path):
    manifest = json.loads((bundle2 / "manifest.json").read_text())
    assert manifest["format"] == FORMAT_2
    lines = read_lines(bundle2)
    assert [next(iter(line)) for line in lines[RECORD:RECORD + 2]] == ["submission", "envelope"]
    assert len(lines) == SIZE + 1  # one record for the one batch
    report = verify_bundle(bundle2)
    assert report.ok, explain(report)
    export_bundle(log.ledger, tmp_path / "one", bundle_format=1)
    old = verify_bundle(tmp_path / "one")
    assert (report.entries, report.checkpoints, report.root, report.balances) == \
        (old.entries, old.checkpoints, old.root, old.balances)
    assert (bundle2 / "entries.jsonl").stat().st_size < (tmp_path / "one" / "entries.jsonl").stat().st_size


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("case", list(FORMAT_2_TAMPERING))
def test_tampering_only_format_2_can_have_is_named_by_verify(log, bundle2, case, jobs):
    tamper, expected = FORMAT_2_TAMPERING[case]
    lines = read_lines(bundle2)
    tamper(lines)
    write_lines(bundle2, lines)
    assert_named(verify_bundle(bundle2, jobs=jobs), expected)


def test_a_line_moved_into_another_submission_is_named(opened, tmp_path):
    """Two batches of three: the second line of the first is moved into the second."""
    company = opened.company
    first = opened.ledger.submit(pledge_batch(company, "first", 3, prefix="f"))["first_index"]
    second = opened.ledger.submit(pledge_batch(company, "second", 3, prefix="s"))["first_index"]
    opened.ledger.submit(pledge(company, "last", "last"))
    directory = tmp_path / "bundle"
    export_bundle(opened.ledger, directory)
    lines = read_lines(directory)
    moved = lines.pop(first + 2)  # the first batch's record is at line `first`, its lines after it
    lines.insert(second + 2, moved)  # the second record is now at line second, one line earlier
    write_lines(directory, lines)
    report = verify_bundle(directory)
    assert_named(report, {(first, "batch"), (first + 1, "order"), (second - 1, "batch"), (second - 1, "signature")})


def test_export_refuses_an_unknown_format(log, tmp_path):
    with pytest.raises(InvalidInput, match="bundle format is 1 or 2"):
        export_bundle(log.ledger, tmp_path / "bundle", bundle_format=3)
    assert not (tmp_path / "bundle").exists()


def test_lines_reformatted_with_other_whitespace_are_read_as_what_they_say(log, bundle2):
    """Like format 1, a line is read by its JSON value: whitespace changes nothing verified."""
    lines = read_lines(bundle2)
    (bundle2 / "entries.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    refresh_digests(bundle2)
    report = verify_bundle(bundle2)
    assert report.ok, explain(report)
    assert report.entries == SIZE


def amanah(log, *arguments: str) -> subprocess.CompletedProcess:
    """The `amanah` command as a real process, on the `log` fixture's ledger."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AMANAH_")}
    environment.update(AMANAH_HOME=str(log.settings.home), AMANAH_DATABASE_URL=log.settings.database_url)
    return subprocess.run([sys.executable, "-m", "cli", *map(str, arguments)], cwd=Path(__file__).resolve().parents[2],
                          env=environment, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def test_amanah_export_writes_format_2_unless_asked_for_format_1_and_verify_reads_both(log, tmp_path):
    for arguments, expected in (((), FORMAT_2), (("--format", "1"), "amanah-bundle/1")):
        directory = tmp_path / (expected.replace("/", "-"))
        exported = amanah(log, "export", *arguments, directory)
        assert exported.returncode == 0, exported.stderr
        assert json.loads((directory / "manifest.json").read_text())["format"] == expected
        verified = amanah(log, "verify", directory)
        assert verified.returncode == 0 and verified.stdout.startswith(f"OK: {SIZE} entries"), verified
    refused = amanah(log, "export", "--format", "3", tmp_path / "three")
    assert refused.returncode == 2 and "--format" in refused.stderr and not (tmp_path / "three").exists()
