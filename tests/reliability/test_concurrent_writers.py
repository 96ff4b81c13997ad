"""Eight writer processes against the production server (gunicorn, four workers, one database):
distinct pledges from four companies, retries and conflicting reuses of idempotency keys, and
pairs of clients sending the same submission at the same moment. Nothing is lost or stored
twice, the log verifies, and every checkpoint is consistent with the next."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from ledger import merkle, note, signing
from ledger.bundle import verify_database
from tests.integration.support import pledge
from tests.reliability.support import REPOSITORY, Server

PROCESSES, COMPANIES, PLEDGES_PER_PROCESS, PAIRS = 8, 4, 35, 20


def test_eight_concurrent_writers_lose_nothing_and_store_nothing_twice(opened, tmp_path):
    companies = [opened.register(f"pt-penulis-{number}", "company") for number in range(COMPANIES)]
    before = opened.ledger.size()
    server = Server.start(tmp_path, opened.settings.database_url, workers=4).wait_ready()
    try:
        begun = time.perf_counter()
        writers = [_start_writer(server, companies[number % COMPANIES], number, tmp_path)
                   for number in range(PROCESSES)]
        pairs = [_send_as_a_pair(server, pledge(opened.company, f"pair-{round_}", f"pair-{round_}"))
                 for round_ in range(PAIRS)]
        for process in writers:
            assert process.wait(timeout=600) == 0
        elapsed_s = time.perf_counter() - begun
        responses = [json.loads(line) for number in range(PROCESSES)
                     for line in (tmp_path / f"writer-{number}.jsonl").read_text().splitlines()]
        stored = _check_responses(responses) + _check_pairs(pairs)
        assert sum(response["busy"] for response in responses) == 0, "writers take turns: none is told the log is busy"
        _check_tiling(stored, before, opened.ledger.size())
        report = verify_database(opened.ledger)
        assert report.ok, [str(failure) for failure in report.failures[:5]]
        checkpoints = _check_checkpoint_chain(server, opened)
        health = server.health_at(opened.ledger.size())
        assert health["views_position"] == health["tree_size"] == opened.ledger.size()
    finally:
        server.stop()
    print(f"\n{PROCESSES} writers, {opened.settings.database_url.split(':')[0]}: {len(responses)} responses "
          f"{dict(Counter((r['kind'], r['status']) for r in responses))}, busy retries "
          f"{sum(r['busy'] for r in responses)}; {PAIRS} simultaneous pairs; {len(stored)} stored in "
          f"{elapsed_s:.1f} s = {len(stored) / elapsed_s:.0f} accepted submissions/s; "
          f"{checkpoints} checkpoints, each consistent with the next")


def _start_writer(server: Server, signer, number: int, directory: Path) -> subprocess.Popen:
    raw = signer.private_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                           serialization.NoEncryption())
    orders = {"port": server.port, "origin": signer.origin, "actor": signer.actor, "process": number,
              "private_key": base64.b64encode(raw).decode(), "count": PLEDGES_PER_PROCESS}
    with (directory / f"writer-{number}.jsonl").open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "tests.reliability.writer"], cwd=REPOSITORY,
                                   stdin=subprocess.PIPE, stdout=output, text=True)
    process.stdin.write(json.dumps(orders))
    process.stdin.close()
    return process


def _send_as_a_pair(server: Server, document: dict) -> list[tuple[int, dict]]:
    """Two clients send the same submission, released together by a barrier."""
    body, barrier, results = json.dumps(document).encode(), threading.Barrier(2), []
    connections = [server.connection(), server.connection()]
    for connection in connections:
        connection.connect()

    def send(connection) -> None:
        barrier.wait()
        status, result, _ = server.post(body, connection)
        results.append((status, result))

    threads = [threading.Thread(target=send, args=(connection,)) for connection in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for connection in connections:
        connection.close()
    return results


def _check_responses(responses: list[dict]) -> list[dict]:
    """Each pledge stored once; a retry gets the original; a conflicting reuse is refused."""
    originals = {r["key"]: r["result"] for r in responses if r["kind"] == "new"}
    assert len(originals) == PROCESSES * PLEDGES_PER_PROCESS
    for response in responses:
        status, result = response["status"], response["result"]
        if response["kind"] == "new":
            assert status == 201 and not result["replayed"], response
        elif response["kind"] == "retry":
            assert status == 200 and result["replayed"], response
            assert result["first_index"] == originals[response["key"]]["first_index"]
        else:
            assert status == 409 and result["code"] == "idempotency-conflict", response
            assert result["errors"][0]["field"] == "envelopes[0].idempotency_key"
    return list(originals.values())


def _check_pairs(pairs: list[list[tuple[int, dict]]]) -> list[dict]:
    stored = []
    for pair in pairs:
        assert sorted(status for status, _ in pair) == [200, 201], pair
        assert pair[0][1]["first_index"] == pair[1][1]["first_index"]
        stored.append(next(result for status, result in pair if status == 201))
    return stored


def _check_tiling(stored: list[dict], before: int, size: int) -> None:
    """The accepted submissions' entries cover the new part of the log exactly once."""
    indices = sorted(index for result in stored for index in range(result["first_index"], result["last_index"] + 1))
    assert indices == list(range(before, size)), "an entry lost, stored twice, or not accounted for"


def _check_checkpoint_chain(server: Server, world) -> int:
    """Every signed checkpoint, from the API, is consistent with the next by an API proof."""
    public = signing.public_key_bytes(world.checkpoint_key)
    checkpoints, start = [], 0
    while True:
        page = server.get(f"/api/v1/checkpoints?start_size={start}&limit=1000")[1]
        checkpoints += page
        if len(page) < 1000:
            break
        start = page[-1]["tree_size"] + 1
    for checkpoint in checkpoints:
        signed = note.verify_checkpoint(checkpoint["note"], world.ledger.origin, public)
        assert (signed.size, base64.b64encode(signed.root).decode()) == (checkpoint["tree_size"], checkpoint["root"])
    for older, newer in zip(checkpoints, checkpoints[1:]):
        status, proof = server.get(f"/api/v1/proofs/consistency?first={older['tree_size']}&second={newer['tree_size']}")
        assert status == 200 and (proof["first_root"], proof["second_root"]) == (older["root"], newer["root"])
        assert merkle.verify_consistency(older["tree_size"], newer["tree_size"],
                                         [base64.b64decode(node) for node in proof["proof"]],
                                         base64.b64decode(older["root"]), base64.b64decode(newer["root"]))
    assert checkpoints[-1]["tree_size"] == world.ledger.size()
    return len(checkpoints)
