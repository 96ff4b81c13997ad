"""Fixtures of the integration tests (the `world` and `database_url` fixtures come from
tests/conftest.py and run every test on SQLite and on PostgreSQL)."""

from __future__ import annotations

import pytest

from pathlib import Path

from ledger import signing
from ledger.bundle import export_bundle, verify_database
from ledger.client import Signer, public_key_b64
from tests.integration.forgery import BATCH_FIRST, LAST, SIZE, SOLO
from tests.integration.support import WHEN, open_programme, pledge, pledge_batch


@pytest.fixture
def opened(world):
    """A ledger after genesis with a company and an open programme to pledge to."""
    world.city = open_programme(world)
    return world


@pytest.fixture
def log(opened):
    """The log the tampering tests attack (its entries are listed in tests/integration/test_tampering.py)."""
    ledger, company, registrar = opened.ledger, opened.company, opened.registrar
    assert ledger.submit(pledge(company, "solo", "solo", 7_654_321))["first_index"] == SOLO
    assert ledger.submit(pledge_batch(company, "batch", 6))["first_index"] == BATCH_FIRST
    ledger.submit(pledge(company, "after-1", "after-1"))
    ledger.submit(pledge(company, "after-2", "after-2"))
    second = Signer(company.origin, company.actor, signing.generate())
    ledger.submit(registrar.one("add-key", "key.added", WHEN, {
        "organisation": company.actor, "public_key": public_key_b64(second.private_key)}))
    ledger.submit(registrar.one("revoke-key", "key.revoked", WHEN, {
        "organisation": company.actor, "key_id": company.key_id, "reason": "laptop stolen"}))
    assert ledger.submit(pledge(second, "with-new-key", "with-new-key"))["first_index"] == LAST
    assert ledger.size() == SIZE and verify_database(ledger).ok
    opened.second = second
    return opened


@pytest.fixture(params=[1, 2], ids=["format1", "format2"])
def bundle(log, tmp_path, request) -> Path:
    """An export of the `log` fixture, in each bundle format (every tampering case runs on both)."""
    directory = tmp_path / "bundle"
    assert export_bundle(log.ledger, directory, bundle_format=request.param)["tree_size"] == SIZE
    return directory
