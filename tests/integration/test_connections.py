"""How many PostgreSQL connections a ledger holds: one opened at start, more only as threads
need them (PostgreSQL allows 100 by default, and every server worker and command opens a ledger)."""

from __future__ import annotations

import threading

from ledger.config import POOL_AT_START, POOL_MOST
from tests.integration.support import pledge


def test_a_ledger_on_postgresql_opens_one_connection_and_grows_only_as_threads_need(opened):
    """A ledger opens one PostgreSQL connection at start and more as threads hold them at once
    (on SQLite there is no pool: its settings say nothing of one)."""
    if not opened.settings.database_url.startswith("postgres"):
        assert "POSTGRES_POOL_SIZE" not in opened.settings.eventsourcing_env()
        return
    other = opened.reopen()
    try:
        pool = other.recorder.datastore.pool
        assert (pool.min_size, pool.max_size) == (POOL_AT_START, POOL_MOST) == (1, 15)
        other.size()
        assert pool.get_stats()["pool_size"] <= 2  # eventsourcing's default opened 5
        barrier = threading.Barrier(4)

        def read() -> None:
            with pool.connection():
                barrier.wait(timeout=30)  # four threads hold a connection at once

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert pool.get_stats()["pool_size"] >= 4  # grown on demand
        other.submit(pledge(opened.company, "after-growing", "p-1"))
    finally:
        other.close()
