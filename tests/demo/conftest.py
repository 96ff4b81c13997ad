"""The demo year, built once per test run on SQLite and served by the real server.

The build (`amanah demo`, about a minute of one core) starts in the background as soon as a
session has collected a test that needs it, so it runs beside the tests collected before the
demo's; the first demo test waits for it to finish. Under pytest-xdist every worker collects
every test, so the build lives in the run's shared directory (tests/conftest.py `run_directory`):
the first worker to get there starts it, the others wait for its exit status there, and the
controller ends it and removes it after the run."""

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
from tests.conftest import run_directory

BUILD_TIMEOUT_S = 900
DEMO_GROUP = "demo"  # one xdist worker runs every demo test: one server, one browser


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if "demo_home" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(DEMO_GROUP))


def pytest_collection_finish(session) -> None:
    if session.config.option.collectonly:
        return
    if any("demo_home" in getattr(item, "fixturenames", ()) for item in session.items):
        _start_build()


def _build_directory() -> Path:
    return run_directory() / "demo"


def _start_build() -> None:
    """Start `amanah demo` unless a worker of this run already did; its exit status lands in
    `status` when it ends, for whichever worker waits."""
    directory = _build_directory()
    try:
        directory.mkdir()
    except FileExistsError:
        return
    home = directory / "home"
    home.mkdir()
    environment = {**os.environ, "AMANAH_HOME": str(home)}
    environment.pop("AMANAH_DATABASE_URL", None)
    script = '"$0" -m cli demo 2>"$1"; echo $? >"$2.part" && mv "$2.part" "$2"'
    process = subprocess.Popen(["sh", "-c", script, sys.executable, str(directory / "build.log"),
                                str(directory / "status")], env=environment, stdout=subprocess.DEVNULL,
                               start_new_session=True)
    (directory / "pid").write_text(str(process.pid))
    _started.append(process)  # held, so it is never collected while running


_started: list[subprocess.Popen] = []


def pytest_sessionfinish(session) -> None:
    for process in _started:  # reap it if it ended; the controller ends it otherwise
        process.poll()


def stop_build(directory: Path) -> None:
    """End a build still running when the run ends (-x, Ctrl-C before a demo test)."""
    pid, status = directory / "demo" / "pid", directory / "demo" / "status"
    if pid.exists() and not status.exists():
        try:
            os.killpg(int(pid.read_text()), 9)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="session")
def demo_home() -> Path:
    """AMANAH_HOME of a freshly built demo ledger (views caught up, demo tokens issued)."""
    directory = _build_directory()
    if not directory.exists():  # a session that collected no demo test but still asks for the fixture
        _start_build()
    status = directory / "status"
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while not status.exists():
        if time.monotonic() > deadline:
            stop_build(run_directory())
            pytest.fail(f"the demo build did not finish within {BUILD_TIMEOUT_S} s")
        time.sleep(0.2)
    returncode = int(status.read_text())
    assert returncode == 0, (directory / "build.log").read_text()[-3000:]
    return directory / "home"


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
