"""Bad bodies through the real server (`amanah serve`: gunicorn, 2 workers), where the test
client cannot stand in: chunked bodies over the limit, bodies cut short by the client, and
nesting that a worker must refuse on its own stack."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys

import pytest

from api.app import MAX_BODY_BYTES
from scripts.benchmarks.synthetic import free_port, wait_until_up
from ledger import payloads
from tests.domain.conftest import PROGRAMME
from tests.fuzz.conftest import MAJU, PROBLEM_FIELDS


@pytest.fixture
def server(target):
    """Base host and port of `amanah serve` over the target's ledger."""
    settings = target.programme.world.settings
    port = free_port()
    environment = {**os.environ, "AMANAH_HOME": str(settings.home), "AMANAH_DATABASE_URL": settings.database_url}
    process = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--bind", f"127.0.0.1:{port}",
                                "--workers", "2"], env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def answer(response: http.client.HTTPResponse) -> dict:
    body = json.loads(response.read())
    assert response.getheader("Content-Type").startswith("application/problem+json"), body
    assert PROBLEM_FIELDS <= set(body) and body["status"] == response.status, body
    return body


def send_chunked(port: int, chunks) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/api/v1/submissions", body=chunks, encode_chunked=True,
                       headers={"Content-Type": "application/json", "Connection": "close"})
    return connection.getresponse()  # closed once read: the threaded server keeps connections alive


def send_cut_short(port: int, body: bytes) -> bytes:
    """Announce the whole body, send half of it, and close the sending side."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        connection.sendall(b"POST /api/v1/submissions HTTP/1.1\r\nHost: localhost\r\n"
                           b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                           + body[:len(body) // 2])
        connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_bad_bodies_through_gunicorn_are_clean_problems_and_store_nothing(target, server):
    size = target.services.ledger.size()
    mebibyte = b"1," * (1024 * 512)
    response = send_chunked(server, [b"["] + [mebibyte] * (MAX_BODY_BYTES // len(mebibyte) + 1) + [b"1]"])
    assert response.status == 413, answer(response)
    answer(response)

    document = target.programme.companies[MAJU].one("served", "pledge.made", "2025-03-01T00:00:00Z",
                                                    payloads.pledge(PROGRAMME, "pl-served", 1_000_000))
    body = json.dumps(document).encode()
    reply = send_cut_short(server, body)
    assert reply.startswith(b"HTTP/1.1 400") and b"application/problem+json" in reply, reply[:300]

    deep = b"[" * 100_000 + b"]" * 100_000
    response = send_chunked(server, (deep,))
    assert response.status == 400 and "not valid JSON" in answer(response)["detail"]

    assert target.services.ledger.size() == size
    response = send_chunked(server, (body,))  # the same body, whole, is accepted
    assert response.status == 201, response.read()
