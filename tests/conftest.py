"""Shared fixtures: one ledger fixture parametrised over SQLite and the real PostgreSQL."""

from __future__ import annotations

import os
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


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    settings = Settings.from_environment({"AMANAH_HOME": str(tmp_path),
                                          "AMANAH_DATABASE_URL": database_url})
    # Keys live where production keeps them, so an API built from these settings finds them.
    checkpoint_key = wiring.prepare_files(settings, plain_checkpoint_key=True)
    registrar = Signer(settings.origin, "registrar", signing.generate())
    company_key = signing.generate()
    ledger, _ = wiring.create_ledger(settings, checkpoint_key, registrar, "Pemerintah Kota Jakarta Utara", [
        Organisation("pt-maju-bersama", "PT-MAJU-BERSAMA", "company", public_key_b64(company_key))],
        created_at="2025-01-01T00:00:00Z", registered_at="2025-01-02T00:00:00Z")
    world = World(ledger, settings, checkpoint_key, registrar, Signer(settings.origin, "pt-maju-bersama", company_key))
    yield world
    ledger.close()
