"""Fixtures of the integration tests (the `world` and `database_url` fixtures come from
tests/conftest.py and run every test on SQLite and on PostgreSQL)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ledger import signing
from ledger.bundle import export_bundle, verify_database
from ledger.client import Signer, public_key_b64
from tests.conftest import build_world, empty_database
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
    write_log(opened)
    return opened


def write_log(opened) -> None:
    """Append the `log` fixture's entries to an opened world (and note its second company key)."""
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


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def read_only_log(request, tmp_path_factory):
    """The `log` fixture's ledger built once per test module and database kind, for the tests
    that only read it and tamper with copies of its exports (`exported_bundle`): a test that
    changes the database uses `log`."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_available")
    home = tmp_path_factory.mktemp("log")
    with empty_database(request.param, home / "ledger.db") as url:
        world = build_world(url, home)
        world.city = open_programme(world)
        write_log(world)
        yield world
        world.ledger.close()


@pytest.fixture(scope="module")
def exports(read_only_log, tmp_path_factory) -> dict[int, Path]:
    """`read_only_log` exported once in each bundle format."""
    directory = tmp_path_factory.mktemp("exports")
    for bundle_format in (1, 2):
        assert export_bundle(read_only_log.ledger, directory / str(bundle_format),
                             bundle_format=bundle_format)["tree_size"] == SIZE
    return {bundle_format: directory / str(bundle_format) for bundle_format in (1, 2)}


@pytest.fixture(params=[1, 2], ids=["format1", "format2"])
def exported_bundle(exports, tmp_path, request) -> Path:
    """A fresh copy of `read_only_log`'s export, in each bundle format, for one test to tamper with."""
    directory = tmp_path / "bundle"
    shutil.copytree(exports[request.param], directory)
    return directory


@pytest.fixture(params=[1, 2], ids=["format1", "format2"])
def bundle(log, tmp_path, request) -> Path:
    """An export of the `log` fixture, in each bundle format (every tampering case runs on both)."""
    directory = tmp_path / "bundle"
    assert export_bundle(log.ledger, directory, bundle_format=request.param)["tree_size"] == SIZE
    return directory
