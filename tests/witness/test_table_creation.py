"""Server workers start together and each creates the cosignature table on first use: on
PostgreSQL concurrent CREATE TABLE IF NOT EXISTS collide in pg_type (a 500 on a statement under
load), so the table is created under the same advisory lock as the log's."""

from __future__ import annotations

import threading

from ledger.witness_table import witness_sizes


def test_many_processes_create_the_cosignature_table_at_once(world):
    ledgers = [world.reopen() for _ in range(6)]
    barrier, errors = threading.Barrier(len(ledgers)), []

    def first_use(ledger) -> None:
        barrier.wait()
        try:
            assert witness_sizes(ledger) == {}
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=first_use, args=(ledger,)) for ledger in ledgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for ledger in ledgers:
        ledger.close()
    assert errors == []
