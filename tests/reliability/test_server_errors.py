"""Requests the production server's HTTP layer refuses before the application sees them (a bad
request line, a too long URL, too many headers, Content-Length with Transfer-Encoding) are
answered in the API's problem+json shape, saying what to change, through raw sockets; and the
server opens no control socket anyone could send "shutdown" to."""

from __future__ import annotations

import json
import socket

import pytest

from tests.reliability.support import Server, environment

REFUSED = {
    "bad request line": (b"NOT A REQUEST\r\nHost: x\r\n\r\n", 400, "request line"),
    "bad version": (b"GET / HTTP/7.1\r\nHost: x\r\n\r\n", 400, "HTTP/1.0 and HTTP/1.1"),
    "URL too long": (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "shorten the URL"),
    "line never ends": (b"GET /" + b"a" * 70_000, 414, "shorten the URL"),
    "too many headers": (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(150))
                         + b"\r\n", 431, "headers"),
    "header too large": (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431, "headers"),
    "CL and TE together": (b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "Content-Length"),
    "unknown coding": (b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
                       400, "Transfer-Encoding"),
    "bad chunk size": (b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400, "chunk"),
}


@pytest.fixture
def served(world, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {**environment(tmp_path, world.settings.database_url), "HOME": str(home)}
    env.pop("XDG_RUNTIME_DIR", None)
    server = Server.start(tmp_path, world.settings.database_url, workers=1, env=env).wait_ready()
    server.home = home
    yield server
    server.stop()


def _exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(request)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {name.lower(): value for name, value in headers.items()}, body


def test_requests_the_http_layer_refuses_are_answered_as_problem_json(served):
    for name, (request, status, hint) in REFUSED.items():
        answered, headers, body = _exchange(served.port, request)
        assert answered == status, (name, answered, body)
        assert headers["content-type"] == "application/problem+json", (name, headers)
        problem = json.loads(body)
        assert problem["status"] == status and problem["code"] and hint in problem["detail"], (name, problem)
        assert "<html" not in body.decode(errors="replace")
    assert served.get("/api/v1/health")[0] == 200  # and the server goes on serving


def test_the_server_opens_no_control_socket(served):
    assert not (served.home / ".gunicorn").exists()
    assert "control" not in served.log.read_text().lower()
