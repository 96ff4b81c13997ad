"""A synthetic ledger for the benchmarks and the load generator: workers enrolled and premium
batches paid through `Ledger.submit`; and the helpers that start a server on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ledger import payloads, personal, signing, wiring
from ledger.client import Signer, public_key_b64
from ledger.config import Settings
from ledger.wiring import Organisation

PROGRAMME = "bench-2025"
ORGANISATIONS = (("city", "city"), ("baznas", "baznas"), ("bpjs", "bpjs"), ("pt-bench", "company"))
TUNING = ("AMANAH_AGGREGATE_CACHE", "AMANAH_SNAPSHOT_EVERY")  # settings the benchmark's ledgers take from its environment
BATCH_LINES = 11_860  # the demo year's largest batch: North Jakarta's workers in one month


class Synthetic:
    """A ledger with `workers` enrolled and `months` premium batches, built through submit()."""

    def __init__(self, database_url: str, home: Path):
        self.home = home
        tuning = {name: os.environ[name] for name in TUNING if name in os.environ}  # e.g. a larger cache
        self.settings = Settings.from_environment({"AMANAH_HOME": str(home), "AMANAH_DATABASE_URL": database_url,
                                                   **tuning})
        self.checkpoint_key = wiring.prepare_files(self.settings, plain_checkpoint_key=True)
        self.secret = personal.read_secret(self.settings.pseudonym_secret_path)
        self.counter = 0
        origin = self.settings.origin
        registrar = Signer(origin, "registrar", signing.generate())
        keys = {organisation: signing.generate() for organisation, _ in ORGANISATIONS}
        self.ledger, _ = wiring.create_ledger(self.settings, self.checkpoint_key, registrar, "Registrar", [
            Organisation(organisation, organisation, kind, public_key_b64(keys[organisation]))
            for organisation, kind in ORGANISATIONS], created_at="2025-01-01T00:00:00Z")
        self.signers = {organisation: Signer(origin, organisation, key) for organisation, key in keys.items()}
        self.submit("city", "programme.opened", payloads.programme_opened(PROGRAMME, 2025))
        self.submit("baznas", "donation.received", payloads.receipt(PROGRAMME, "rc-1", "pt-bench", 10**12 // 2,
                                                                     "2025-01-02"))
        self.workers: list[dict] = []

    def submit(self, who: str, kind: str, payload: dict) -> dict:
        self.counter += 1
        return self.ledger.submit(self.signers[who].one(f"k{self.counter}", kind, "2025-01-02T00:00:00Z", payload))

    def enrol(self, count: int) -> None:
        start = len(self.workers)
        for first in range(start, start + count, 5000):
            chunk = []
            for number in range(first, min(first + 5000, start + count)):
                reference = f"{number:064x}"  # enrolled without personal data: any 64 hex digits
                chunk.append({"worker": reference, "income_rupiah": 1_000_000, "category": "ojek_online", "jht": False})
            self.counter += 1
            self.ledger.submit(self.signers["bpjs"].submission(f"e{self.counter}", [
                ("worker.enrolled", "2025-01-02T00:00:00Z", payloads.enrolment(
                    PROGRAMME, w["worker"], w["category"], "Kelapa Gading Barat", "2025-01-02")) for w in chunk]))
            self.workers += chunk

    def grow_to(self, entries: int, batch_lines: int = BATCH_LINES) -> None:
        """Enrol workers and pay monthly premiums, in batches of at most `batch_lines`, until the
        log holds about `entries` entries (one programme year; about 13 entries per worker)."""
        self.enrol(max(10, entries // 13) - len(self.workers))
        month = 1
        while self.ledger.size() < entries and month <= 12:
            for first in range(0, len(self.workers), batch_lines):
                self.ledger.submit(self.premium_submission(f"2025-{month:02d}", self.workers[first:first + batch_lines]))
            month += 1

    def premium_submission(self, month: str, workers: list[dict]) -> dict:
        self.counter += 1
        disbursement = f"d-{month}-{self.counter}"
        total = 16_800 * len(workers)
        self.submit("baznas", "disbursement.made", payloads.disbursement(
            PROGRAMME, disbursement, "bpjs", month, "2025-01-03", [("rc-1", "pt-bench", total)]))
        lines = payloads.premium_batch(PROGRAMME, f"b-{month}-{self.counter}", disbursement, month, workers,
                                       paid_on=f"{month}-05")  # after the money (3 January) and the enrolment
        return self.signers["bpjs"].submission(f"p{self.counter}", [(t, "2025-01-04T00:00:00Z", p) for t, p in lines])


CREATED_SCHEMAS: list[tuple[str, str]] = []  # (server URL, schema) made by fresh_postgres


def fresh_postgres(url: str) -> str:
    """A new schema for one run, so runs and baselines never share tables (dropped again by
    `drop_created_schemas`)."""
    import uuid

    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    plain = url.split("?")[0]
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    CREATED_SCHEMAS.append((plain, schema))
    return f"{plain}?schema={schema}"


def drop_created_schemas() -> None:
    """Drop every schema this process made, so benchmarks leave the database as they found it."""
    import psycopg

    while CREATED_SCHEMAS:
        plain, schema = CREATED_SCHEMAS.pop()
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def start_server(home: Path, database_url: str, port: int) -> subprocess.Popen:
    """`amanah serve` with 2 gunicorn workers on 127.0.0.1 only, from the current directory's
    checkout (`python -m cli`), on the ledger in `home`."""
    environment = {**os.environ, "AMANAH_HOME": str(home), "AMANAH_DATABASE_URL": database_url}
    return subprocess.Popen([sys.executable, "-m", "cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
                            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def free_port() -> int:
    """A loopback port nobody listens on now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base: str) -> None:
    """Wait up to a minute for the server at `base` to answer its health check."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=2).close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("server did not start")
