"""The demo year, built once per test session on SQLite and served by the real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ledger.config import Settings


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory) -> Path:
    """AMANAH_HOME of a freshly built demo ledger (views caught up, demo tokens issued)."""
    home = tmp_path_factory.mktemp("demo")
    environment = {**os.environ, "AMANAH_HOME": str(home)}
    environment.pop("AMANAH_DATABASE_URL", None)
    completed = subprocess.run([sys.executable, "-m", "cli", "demo"], env=environment, capture_output=True,
                               text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return home


@pytest.fixture(scope="session")
def demo_settings(demo_home: Path) -> Settings:
    return Settings.from_environment({"AMANAH_HOME": str(demo_home)})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def demo_server(demo_home: Path):
    """Base URL of `amanah serve` (gunicorn, 2 workers) over the demo ledger."""
    port = _free_port()
    environment = {**os.environ, "AMANAH_HOME": str(demo_home)}
    environment.pop("AMANAH_DATABASE_URL", None)
    log = open(demo_home / "server.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--bind", f"127.0.0.1:{port}",
                               "--workers", "2"], env=environment, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=2):
                break
        except OSError:
            assert server.poll() is None, (demo_home / "server.log").read_text()[-3000:]
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail("the demo server did not start within 60 s")
    yield base
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()
