"""The production server killed (SIGKILL, the whole process group) while it stores a signed
premium batch of 1,000 lines: after a restart the batch is in the log whole or not at all, the
log verifies, and sending the same request again stores it exactly once."""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter

from scripts.benchmarks.synthetic import Synthetic
from ledger.bundle import verify_database
from tests.reliability.support import Server, kills_per_database, settle

LINES = 1000
ENTRIES = LINES + 1  # the batch header and one premium line per worker
KILLS_PER_LEDGER = 4  # then a fresh ledger, so the log (and verifying it after each kill) stays small


def test_a_server_killed_during_a_large_batch_stores_it_whole_or_not_at_all(database_url, databases, tmp_path):
    kills, rng = kills_per_database(), random.Random(20251124)
    tally: Counter = Counter()
    started, duration_s = time.monotonic(), None
    for first in range(0, kills, KILLS_PER_LEDGER):
        url = database_url if first == 0 else databases.new(f"ledger-{first}")
        world = Synthetic(url, tmp_path / f"ledger-{first}")
        # Servers start prepared (imported, waiting): this ledger's first, and the one that
        # restarts after the first kill, import while the workers enrol.
        server = Server.start(world.home, url, prepared=True)
        following = Server.start(world.home, url, prepared=True)
        world.enrol(LINES)
        server = server.go().wait_ready()
        if duration_s is None:  # a whole request on a freshly started server, as each killed one is
            duration_s = _post_whole(world, server, "2025-01")
        # Months in order from the second (or the first, on a later ledger): a membership lapses
        # after 3 unpaid months, so a batch may not jump ahead.
        start = 2 if first == 0 else 1
        for month in range(start, start + min(KILLS_PER_LEDGER, kills - first)):
            server, following = _kill_during_batch(world, server, following, f"2025-{month:02d}",
                                                   rng.uniform(0, duration_s), tally)
        server.stop()
        following.dismiss()
        assert verify_database(world.ledger).ok
        world.ledger.close()
    print(f"\ncrash during a {ENTRIES}-entry batch, {database_url.split(':')[0]}: {kills} kills over "
          f"{duration_s:.2f} s requests; {dict(tally)}; {time.monotonic() - started:.0f} s")
    assert tally["killed"] == kills and tally["verified"] == kills


def _post_whole(world: Synthetic, server: Server, month: str) -> float:
    body = json.dumps(world.premium_submission(month, world.workers)).encode()
    begun = time.perf_counter()
    status, result, _ = server.post(body)
    assert (status, result["count"]) == (201, ENTRIES), result
    return time.perf_counter() - begun


def _kill_during_batch(world: Synthetic, server: Server, following: Server, month: str, delay_s: float,
                       tally: Counter) -> tuple[Server, Server]:
    """Post a batch, kill the server after `delay_s`, restart it (`following`, prepared before),
    check, send the batch again; returns the server and the prepared one that follows it."""
    body = json.dumps(world.premium_submission(month, world.workers)).encode()
    before = world.ledger.size()
    answered = _post_in_background(server, body)
    time.sleep(delay_s)
    server.kill()
    tally["killed"] += 1
    restarted = following.go()  # checked while it starts
    # the next restart's server imports while this one is checked, not during the next batch
    following = Server.start(world.home, world.settings.database_url, prepared=True)
    settle(world.settings.database_url, "amanah_events")
    after = world.ledger.size()
    assert after in (before, before + ENTRIES), f"a partial batch: {after - before} of {ENTRIES} entries"
    tally["stored when killed" if after > before else "not stored when killed"] += 1
    tally["answered before the kill"] += bool(answered)
    report = verify_database(world.ledger)
    assert report.ok, [str(failure) for failure in report.failures[:5]]
    tally["verified"] += 1
    status, result, _ = restarted.wait_ready().post(body)
    assert (status, result["first_index"], result["count"]) == (200 if after > before else 201, before, ENTRIES)
    assert world.ledger.size() == before + ENTRIES
    return restarted, following


def _post_in_background(server: Server, body: bytes) -> list:
    """Send the request from a thread; the list gets the response if one came before the kill."""
    answered: list = []

    def send() -> None:
        try:
            answered.append(server.post(body))
        except (OSError, http.client.HTTPException, ValueError):  # the connection or the answer died with it
            pass

    threading.Thread(target=send, daemon=True).start()
    return answered
