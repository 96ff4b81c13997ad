"""The production server starts with several workers on a ledger whose views were never built:
its workers create the view and token tables at the same moment."""

from __future__ import annotations

import subprocess
import sys
import time

from api.services import Services
from tests.reliability.support import REPOSITORY, Server, environment


def test_four_workers_starting_together_on_fresh_views_all_boot(world, databases, tmp_path):
    for attempt in range(3):
        views_url = databases.new(f"views-{attempt}")
        server = Server.start(tmp_path, world.settings.database_url, workers=4,
                              env=environment(tmp_path, world.settings.database_url, views_url))
        try:
            server.wait_ready()
            assert [server.get("/api/v1/health")[0] for _ in range(8)] == [200] * 8
            assert "Worker failed to boot" not in server.log.read_text()
            assert "Exception in worker process" not in server.log.read_text()
        finally:
            server.stop()


OPENER = """
import sys, time
from ledger.application import Ledger
from ledger.config import Settings
settings = Settings.from_environment()
start_at = float(sys.argv[1])
time.sleep(max(0.0, start_at - time.time()))
Ledger(settings).close()
"""


def test_processes_creating_the_event_store_at_the_same_moment_all_succeed(database_url, tmp_path):
    """Without the server's start-up that creates the schema first: the event store's tables,
    functions and triggers are created under a lock, so concurrent creators never deadlock."""
    for attempt in range(3):
        env = environment(tmp_path / f"home-{attempt}", database_url)
        start_at = time.time() + 3.0  # after every interpreter has imported the ledger
        openers = [subprocess.Popen([sys.executable, "-c", OPENER, str(start_at)], env=env, cwd=REPOSITORY,
                                    stderr=subprocess.PIPE, text=True) for _ in range(6)]
        failures = [process.communicate(timeout=120)[1] for process in openers]
        assert [process.returncode for process in openers] == [0] * 6, [f[-1500:] for f in failures if f]


def test_each_worker_warms_the_ledger_before_it_answers(world, tmp_path):
    """The production server's workers load what the first submission needs before they accept
    a connection, and say so: the warming line is written by the time the first request is answered."""
    services = Services.build(world.settings)
    services.catch_up()  # the views name the organisations to warm
    services.close()
    size = world.ledger.size()
    server = Server.start(tmp_path, world.settings.database_url, workers=1)
    try:
        server.wait_ready()
        log = server.log.read_text()
        warmed = f"warmed the ledger at {size} entries: 2 organisations and 0 programmes cached in"
        assert warmed in log, log[-3000:]
    finally:
        server.stop()
