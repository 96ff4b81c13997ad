"""Shared fixtures: one ledger fixture parametrised over SQLite and the real PostgreSQL."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import signing, wiring
from ledger.application import Ledger
from ledger.client import Signer, public_key_b64
from ledger.config import Settings
from ledger.wiring import Organisation

POSTGRES_URL = os.environ.get("AMANAH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
POSTGRES_REQUIRED = bool(os.environ.get("CI")) or os.environ.get("AMANAH_REQUIRE_POSTGRES") == "1"
RUN_DIRECTORY = "AMANAH_TEST_RUN_DIRECTORY"  # shared by the pytest-xdist workers of one run


def pytest_configure(config) -> None:
    """The run's shared directory, made by the process that starts the run (the xdist controller,
    or pytest itself when serial) before any worker starts, so every worker inherits it."""
    if not hasattr(config, "workerinput"):
        os.environ[RUN_DIRECTORY] = tempfile.mkdtemp(prefix="amanah-tests-")


def pytest_unconfigure(config) -> None:
    if hasattr(config, "workerinput") or RUN_DIRECTORY not in os.environ:
        return
    from tests.demo.conftest import stop_build

    directory = Path(os.environ.pop(RUN_DIRECTORY))
    stop_build(directory)
    shutil.rmtree(directory, ignore_errors=True)


# Under pytest-xdist the longest tests start first (in this order), so that none of them starts
# last and keeps one worker busy alone at the end; the demo's tests come last, when its build is
# done. A serial run keeps the collection order.
LONG_FIRST = ("tests/reliability/test_crash_during_batch.py", "tests/reliability/test_projection_runner_crash.py",
              "tests/reliability/", "tests/views/test_random_histories.py", "tests/fuzz/")


def pytest_collection_modifyitems(config, items) -> None:
    if not hasattr(config, "workerinput"):
        return

    def rank(item) -> int:
        if "demo_home" in getattr(item, "fixturenames", ()):
            return len(LONG_FIRST) + 1
        return next((place for place, prefix in enumerate(LONG_FIRST) if item.nodeid.startswith(prefix)),
                    len(LONG_FIRST))

    items.sort(key=rank)  # stable: collection order within each rank


def run_directory() -> Path:
    """A directory for artefacts built once per run and shared by its workers (the demo ledger)."""
    return Path(os.environ[RUN_DIRECTORY])


def _postgres_unreachable() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return f"PostgreSQL at {POSTGRES_URL} unreachable: {str(error).strip().splitlines()[0]}"


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_unreachable()
    if problem and POSTGRES_REQUIRED:
        pytest.fail(f"{problem} (PostgreSQL is required when CI is set)")
    if problem:
        pytest.skip(problem)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_available")
    with empty_database(request.param, tmp_path / "ledger.db") as url:
        yield url


@contextmanager
def empty_database(kind: str, sqlite_file: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{sqlite_file}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@dataclass
class World:
    """A ledger after genesis, with a registrar, one company, and their signers."""

    ledger: Ledger
    settings: Settings
    checkpoint_key: Ed25519PrivateKey
    registrar: Signer
    company: Signer

    def register(self, organisation_id: str, kind: str, idempotency_key: str | None = None) -> Signer:
        """Register an organisation with a fresh key and return its signer."""
        key = signing.generate()
        self.ledger.submit(self.registrar.one(
            idempotency_key or f"register-{organisation_id}", "organisation.registered",
            "2025-01-02T00:00:00Z",
            {"organisation": organisation_id, "legal_name": organisation_id.upper(), "kind": kind,
             "public_key": public_key_b64(key)}))
        return Signer(self.settings.origin, organisation_id, key)

    def reopen(self) -> Ledger:
        """A second application on the same database (as another process would be)."""
        return Ledger(self.settings, self.checkpoint_key, self.ledger.pseudonym_secret)


def genesis_submission(settings: Settings, registrar: Signer, checkpoint_key: Ed25519PrivateKey) -> dict:
    """The tests' genesis: the city as registrar, on 1 January 2025."""
    return wiring.genesis(settings, registrar, "Pemerintah Kota Jakarta Utara", checkpoint_key, "2025-01-01T00:00:00Z")


def build_world(database_url: str, home: Path) -> World:
    """A ledger after genesis on `database_url` (empty), with its keys and files in `home`."""
    settings = Settings.from_environment({"AMANAH_HOME": str(home), "AMANAH_DATABASE_URL": database_url})
    # Keys live where production keeps them, so an API built from these settings finds them.
    checkpoint_key = wiring.prepare_files(settings, plain_checkpoint_key=True)
    registrar = Signer(settings.origin, "registrar", signing.generate())
    company_key = signing.generate()
    ledger, _ = wiring.create_ledger(settings, checkpoint_key, registrar, "Pemerintah Kota Jakarta Utara", [
        Organisation("pt-maju-bersama", "PT-MAJU-BERSAMA", "company", public_key_b64(company_key))],
        created_at="2025-01-01T00:00:00Z", registered_at="2025-01-02T00:00:00Z")
    return World(ledger, settings, checkpoint_key, registrar, Signer(settings.origin, "pt-maju-bersama", company_key))


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    world = build_world(database_url, tmp_path)
    ledger = world.ledger  # the one opened here, even if a test replaced world.ledger
    yield world
    ledger.close()
