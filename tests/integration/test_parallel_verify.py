"""Verification on several processes finds exactly what one process finds, on every tampering
case of the bundle matrix; chunks are made tiny so entries and batches straddle them."""

from __future__ import annotations

import pytest

from ledger import parallel
from ledger.bundle import verify_bundle
from tests.integration.test_tampering import BUNDLE_TAMPERING, bundle, log  # noqa: F401  (fixtures)


@pytest.fixture
def database_url(tmp_path) -> str:
    """Verification reads only the bundle: one database kind is enough here."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.mark.parametrize("case", ["untouched", *BUNDLE_TAMPERING])
def test_two_processes_report_what_one_process_reports(log, bundle, case, monkeypatch):  # noqa: F811
    monkeypatch.setattr(parallel, "CHUNK_ENTRIES", 3)
    if case != "untouched":
        BUNDLE_TAMPERING[case][0](bundle, log)
    alone, shared = verify_bundle(bundle, jobs=1), verify_bundle(bundle, jobs=2)
    assert sorted(map(str, shared.failures)) == sorted(map(str, alone.failures))
    assert (shared.entries, shared.checkpoints, shared.root, shared.balances) == \
        (alone.entries, alone.checkpoints, alone.root, alone.balances)
    assert alone.ok == (case == "untouched")
