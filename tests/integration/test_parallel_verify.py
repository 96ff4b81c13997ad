"""Verification on several processes finds exactly what one process finds, on every tampering
case of the bundle matrix; chunks are made tiny so entries and batches straddle them."""

from __future__ import annotations

import pytest

from ledger import parallel
from ledger.bundle import verify_bundle
from tests.integration.forgery import entries_of, refresh_digests, set_in, write_entries
from tests.integration.test_tampering import BUNDLE_TAMPERING, FIELD_EDITS, MANIFEST_TAMPERING


def edit_field(case: str):
    def edit(bundle, log) -> None:
        position, path, change, _ = FIELD_EDITS[case]
        entries = entries_of(bundle)
        set_in(entries[position], path, change)
        write_entries(bundle, entries)
        refresh_digests(bundle)
    return edit


CASES = {"untouched": lambda bundle, log: None,
         **{name: tamper for name, (tamper, _) in {**BUNDLE_TAMPERING, **MANIFEST_TAMPERING}.items()},
         **{f"field: {name}": edit_field(name) for name in FIELD_EDITS}}


@pytest.mark.parametrize("read_only_log", ["sqlite"], indirect=True)  # verification reads only the bundle
@pytest.mark.parametrize("case", list(CASES))
def test_two_processes_report_what_one_process_reports(read_only_log, exported_bundle, case, monkeypatch):
    monkeypatch.setattr(parallel, "CHUNK_ENTRIES", 3)
    CASES[case](exported_bundle, read_only_log)
    alone, shared = verify_bundle(exported_bundle, jobs=1), verify_bundle(exported_bundle, jobs=2)
    assert sorted(map(str, shared.failures)) == sorted(map(str, alone.failures))
    assert (shared.entries, shared.checkpoints, shared.root, shared.balances) == \
        (alone.entries, alone.checkpoints, alone.root, alone.balances)
    assert alone.ok == (case == "untouched")
