"""The demo year, built once per test session on SQLite and served by the real server.

The build (`amanah demo`, about a minute of one core) starts in the background as soon as the
session has collected a test that needs it, so it runs on the other core while the tests
collected before the demo's run; the first demo test waits for it to finish."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from ledger.config import Settings

BUILD_TIMEOUT_S = 900
_build: dict = {}  # "directory", "home", "log", "process" of the session's one build


def pytest_collection_finish(session) -> None:
    if session.config.option.collectonly:
        return
    if any("demo_home" in getattr(item, "fixturenames", ()) for item in session.items):
        _start_build()


def pytest_sessionfinish(session) -> None:
    if not _build:
        return
    if _build["process"].poll() is None:  # the session ended (-x, Ctrl-C) before a demo test
        _build["process"].kill()
        _build["process"].wait(timeout=30)
    shutil.rmtree(_build["directory"], ignore_errors=True)
    _build.clear()


def _start_build() -> None:
    directory = Path(tempfile.mkdtemp(prefix="amanah-demo-"))
    home, log = directory / "home", directory / "build.log"
    home.mkdir()
    environment = {**os.environ, "AMANAH_HOME": str(home)}
    environment.pop("AMANAH_DATABASE_URL", None)
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "cli", "demo"], env=environment,
                                   stdout=subprocess.DEVNULL, stderr=output)
    _build.update(directory=directory, home=home, log=log, process=process)


@pytest.fixture(scope="session")
def demo_home() -> Path:
    """AMANAH_HOME of a freshly built demo ledger (views caught up, demo tokens issued)."""
    if not _build:  # a session that collected no demo test but still asks for the fixture
        _start_build()
    process = _build["process"]
    try:
        process.wait(timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == 0, _build["log"].read_text()[-3000:]
    return _build["home"]


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
