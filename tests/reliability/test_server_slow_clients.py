"""Slow clients against the production server (`amanah serve`, two workers, loopback): 60
connections that send half a head, or a head and half a body, and stop do not stop it from
answering others, and are answered 408 and closed in time."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.reliability.support import Server, environment

SLOW_CLIENTS = 60
PARTIAL_HEAD = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"  # never the blank line that ends it
ANSWER_WITHIN_S = 3.0
HEAD_TIMEOUT_S = STALL_TIMEOUT_S = 4.0  # shorter than the 30 s default, to keep the test short


def _open_slow(port: int, count: int, data: bytes) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        client.sendall(data)
        sockets.append(client)
    return sockets


def _timed_health(server: Server) -> float:
    begun = time.perf_counter()
    status, body = server.get("/api/v1/health")
    assert status == 200 and "tree_size" in body, body
    return time.perf_counter() - begun


@pytest.fixture
def served(world, tmp_path):
    env = {**environment(tmp_path, world.settings.database_url), "AMANAH_HEAD_TIMEOUT_S": str(HEAD_TIMEOUT_S),
           "AMANAH_STALL_TIMEOUT_S": str(STALL_TIMEOUT_S)}
    server = Server.start(tmp_path, world.settings.database_url, workers=2, env=env).wait_ready()
    yield server
    server.stop()


def test_sixty_clients_that_never_finish_their_request_do_not_stop_the_server(served):
    slow = _open_slow(served.port, SLOW_CLIENTS, PARTIAL_HEAD)
    try:
        time.sleep(1.0)  # let both workers take their share of the slow connections
        latencies = [_timed_health(served) for _ in range(20)]
        assert max(latencies) < ANSWER_WITHIN_S, latencies
        # The slow connections are still open (held without a thread, not dropped).
        still_open = 0
        for client in slow:
            client.setblocking(False)
            try:
                still_open += client.recv(1) == b""  # closed would read b""
            except BlockingIOError:
                still_open += 1
        assert still_open == SLOW_CLIENTS
    finally:
        for client in slow:
            client.close()
    print(f"\n{SLOW_CLIENTS} slow clients held; /api/v1/health p100 {max(latencies) * 1000:.0f} ms")


def test_bodies_that_stop_arriving_free_their_threads_in_time(served):
    head = (b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{")
    slow = _open_slow(served.port, 60, head)  # more than the 2 workers x 8 threads
    try:
        time.sleep(0.5)
        latencies = [_timed_health(served) for _ in range(3)]
        answers = [_read_all(client, STALL_TIMEOUT_S + 10) for client in slow]
    finally:
        for client in slow:
            client.close()
    # The bodies are awaited by the workers' loops, not by threads: others are answered at once.
    assert max(latencies) < ANSWER_WITHIN_S, latencies
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert json.loads(answer.partition(b"\r\n\r\n")[2])["code"] == "request-timeout"


def _read_all(client: socket.socket, timeout_s: float) -> bytes:
    client.settimeout(timeout_s)
    answer = b""
    while chunk := client.recv(4096):
        answer += chunk
    return answer


def test_a_head_that_never_ends_is_answered_408_and_closed(served):
    client = _open_slow(served.port, 1, PARTIAL_HEAD)[0]
    try:
        begun = time.monotonic()
        answer = _read_all(client, HEAD_TIMEOUT_S + 10)
        waited = time.monotonic() - begun
    finally:
        client.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ") and b"application/problem+json" in head, answer
    assert json.loads(body)["code"] == "request-timeout"
    assert HEAD_TIMEOUT_S - 1 <= waited <= HEAD_TIMEOUT_S + 3
