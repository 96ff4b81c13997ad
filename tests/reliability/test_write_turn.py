"""Writers take turns: one at a time across processes, threads and hosts (SQLite and PostgreSQL),
a writer that waits too long is told the log is busy, and a writer that dies gives its turn back."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time

import pytest

from ledger.errors import LogBusy
from ledger.write_turn import WriteTurn
from tests.integration.support import pledge
from tests.reliability.support import REPOSITORY

HOLDER = """
import sys, time
from ledger.config import Settings
from ledger.write_turn import WriteTurn
turn = WriteTurn(Settings.from_environment({{"AMANAH_HOME": {home!r}, "AMANAH_DATABASE_URL": {url!r}}})
                 .eventsourcing_env(), 5)
with turn.held():
    print("holding", flush=True)
    time.sleep(600)
"""


def _turn(settings, timeout_s: float) -> WriteTurn:
    return WriteTurn(settings.eventsourcing_env(), timeout_s)


def test_a_second_writer_waits_for_the_turn_and_is_told_the_log_is_busy(opened):
    first, second = _turn(opened.settings, 5), _turn(opened.settings, 0.3)
    try:
        with first.held():
            begun = time.monotonic()
            with pytest.raises(LogBusy) as refused:
                with second.held():
                    pytest.fail("two writers held the turn at once")
            assert time.monotonic() - begun >= 0.3
            assert refused.value.code == "log-busy" and "nothing was stored" in str(refused.value)
        with second.held():  # given back
            pass
    finally:
        first.close()
        second.close()


def test_a_writer_that_dies_holding_the_turn_gives_it_back(opened, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(home=str(tmp_path), url=opened.settings.database_url)],
        cwd=REPOSITORY, stdout=subprocess.PIPE, text=True)
    waiting = _turn(opened.settings, 0.3)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(LogBusy):
            with waiting.held():
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        waiting.timeout_s = 10
        with waiting.held():
            pass
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
        waiting.close()


def test_threads_writing_at_once_never_lose_a_race(opened, caplog):
    """Sixteen threads, each its own application (as separate workers are), submit at once: every
    submission is stored at the first attempt, none is decided twice."""
    ledgers = [opened.reopen() for _ in range(4)]
    before, results, errors = opened.ledger.size(), [], []
    barrier = threading.Barrier(16)

    def write(number: int) -> None:
        barrier.wait()
        try:
            for round_ in range(5):
                key = f"thread-{number}-{round_}"
                results.append(ledgers[number % 4].submit(pledge(opened.company, key, key)))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    with caplog.at_level(logging.INFO, logger="ledger.application"):
        threads = [threading.Thread(target=write, args=(number,)) for number in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for ledger in ledgers:
        ledger.close()
    assert errors == []
    assert sorted(result["first_index"] for result in results) == list(range(before, before + 80))
    assert opened.ledger.size() == before + 80
    assert [record.message for record in caplog.records if "retrying" in record.message] == []
