"""Server workers' threads serving concurrent writes and reads that share the ledger, the
projection runner and its caches: every write is stored once, every read answers, the views end
at the log's size with the same rows a rebuild gives, the log verifies and the database file is
sound (a descriptor of the database closed while threads wrote used to drop SQLite's locks)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from contextlib import closing

import pytest

from api.services import Services
from ledger.bundle import verify_database
from tests.api.test_server_busy import write_lock_held
from tests.integration.support import pledge
from tests.reliability.support import Server, environment

WRITERS, READERS, PLEDGES_PER_WRITER, READS_PER_READER = 6, 6, 15, 30
READS = ["/api/v1/health", "/api/v1/totals?year=2025", "/api/v1/awards/2025", "/api/v1/checkpoint?format=json",
         "/api/v1/proofs/consistency?first=1&second=2"]


@pytest.mark.parametrize("workers", [1, 2])
def test_threaded_workers_serve_concurrent_writes_and_reads_correctly(opened, tmp_path, workers):
    before = opened.ledger.size()
    server = Server.start(tmp_path, opened.settings.database_url, workers=workers).wait_ready()
    statuses: Counter = Counter()
    lock = threading.Lock()

    def write(number: int) -> None:
        connection = server.connection(60)
        for count in range(PLEDGES_PER_WRITER):
            key = f"thread-{number}-{count}"
            status, _, _ = server.post(json.dumps(pledge(opened.company, key, key)).encode(), connection)
            with lock:
                statuses[("write", status)] += 1
        connection.close()

    def read(number: int) -> None:
        for count in range(READS_PER_READER):
            status, _ = server.get(READS[(number + count) % len(READS)])
            with lock:
                statuses[("read", status)] += 1

    threads = [threading.Thread(target=write, args=(number,)) for number in range(WRITERS)]
    threads += [threading.Thread(target=read, args=(number,)) for number in range(READERS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        health = server.health_at(opened.ledger.size())
    finally:
        server.stop()
    assert statuses == {("write", 201): WRITERS * PLEDGES_PER_WRITER, ("read", 200): READERS * READS_PER_READER}
    assert opened.ledger.size() == before + WRITERS * PLEDGES_PER_WRITER
    assert health["views_position"] == health["tree_size"] == opened.ledger.size()
    assert verify_database(opened.ledger).ok
    if opened.settings.database_url.startswith("sqlite"):
        path = opened.settings.database_url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(path)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    services = Services.build(opened.settings)
    try:
        incremental = services.runner.dump()
        services.runner.rebuild()
        assert services.runner.dump() == incremental
    finally:
        services.close()


def test_a_request_longer_than_the_worker_timeout_is_answered_not_cut_off(opened, tmp_path):
    """The request waits 8 s for a lock another connection holds, with a worker timeout of 3 s:
    gunicorn's sync worker was killed at the timeout and its client saw a reset connection."""
    env = {**environment(tmp_path, opened.settings.database_url), "AMANAH_WORKER_TIMEOUT_S": "3"}
    server = Server.start(tmp_path, opened.settings.database_url, workers=1, env=env).wait_ready()
    try:
        with write_lock_held(opened.settings.database_url):
            answered = []
            sender = threading.Thread(target=lambda: answered.append(server.post(
                json.dumps(pledge(opened.company, "patient", "patient")).encode())))
            sender.start()
            time.sleep(8)
        sender.join(timeout=60)
    finally:
        server.stop()
    assert answered and answered[0][0] == 201, answered
    assert "WORKER TIMEOUT" not in server.log.read_text()


def test_a_short_load_run_on_sqlite_ends_with_a_sound_database_that_verifies():
    """scripts/load for 10 s (2 workers, 4 clients, the load process holding the database open
    too): the run that found SQLite's locks dropped by a descriptor closed while threads wrote."""
    from scripts.benchmarks.load import run

    results = run(10, 4, 50, None)
    assert results["errors"] == 0, results["error_examples"]
    assert results["verify"]["ok"], results["verify"]
