"""A witness process killed with SIGKILL in the middle of a request keeps its state: it never
cosigns a smaller tree after a larger one it may have answered for."""

from __future__ import annotations

import threading
import time
import urllib.error
from pathlib import Path

from tests.witness.support import ORIGIN, MemoryLog, WitnessProcess, key_from, leaves, write_witness_config

# Runs the real `amanah witness serve`, with the state's update slowed down before or after it
# commits, so the test can kill the process at a known point inside a request.
PAUSED = """
import pathlib, sys, time
from ledger import witness_store
marker, when = pathlib.Path(sys.argv[1]), sys.argv[2]
original = witness_store.SQLiteWitnessState.update
def update(self, origin, decide):
    if when == "before":
        marker.write_text("in the request"); time.sleep(60)
    result = original(self, origin, decide)
    if when == "after":
        marker.write_text("persisted, not answered"); time.sleep(60)
    return result
witness_store.SQLiteWitnessState.update = update
from cli.main import main
sys.exit(main(sys.argv[3:]))
"""


def _kill_inside_a_request(config: Path, tmp_path: Path, when: str, body: bytes) -> None:
    marker = tmp_path / f"marker-{when}"
    paused = WitnessProcess(config, (marker, when), script=PAUSED)
    answers: list = []
    client = threading.Thread(target=lambda: answers.append(_quietly(paused.post, body)), daemon=True)
    client.start()
    deadline = time.monotonic() + 20
    while not marker.exists():
        assert time.monotonic() < deadline, "the paused witness never reached the pause"
        time.sleep(0.02)
    paused.kill()
    client.join(10)
    assert answers and answers[0][0] != 200, "the killed witness must not have answered"


def _quietly(post, body):
    try:
        return post(body, timeout=30)
    except (OSError, urllib.error.URLError) as error:
        return (None, str(error))


def test_a_witness_killed_mid_request_never_cosigns_backwards(tmp_path):
    log = MemoryLog(key_from("crash log"), leaves("entry", 12))
    config, _ = write_witness_config(tmp_path / "w", "witness.crash.test/w1", {ORIGIN: [log.verifier_key]})
    witness = WitnessProcess(config)
    assert witness.post(log.request(0, 4))[0] == 200
    witness.kill()

    # Killed after persisting size 8 but before answering: on restart it stands at 8.
    _kill_inside_a_request(config, tmp_path, "after", log.request(4, 8))
    witness = WitnessProcess(config)
    assert witness.post(log.request(4, 6)) == (409, "8\n")
    assert witness.post(log.request(0, 4)) == (409, "8\n")
    witness.kill()

    # Killed before its transaction: nothing changed, and it goes on from 8.
    _kill_inside_a_request(config, tmp_path, "before", log.request(8, 10))
    witness = WitnessProcess(config)
    try:
        assert witness.post(log.request(8, 10))[0] == 200
        assert witness.post(log.request(8, 9)) == (409, "10\n")
    finally:
        witness.kill()
