"""An app closes what its Services opened (ledger, pools, engines, the write-turn lock) when it is
closed, by close_app, gunicorn's worker_exit hook or at exit; closing twice is harmless."""

from __future__ import annotations

import os
import time
import uuid

import psycopg
import pytest

from api import server
from api.app import _OPEN_APPS, close_app, create_app
from ledger import signing
from tests.conftest import POSTGRES_URL, public_key_b64


def open_connections(settings, application_name: str) -> int:
    """Connections this app holds: files open under the SQLite database's name (the database, its
    WAL and shared memory, the write-turn lock file), or PostgreSQL sessions under its name."""
    if settings.database_url.startswith("sqlite"):
        database = settings.database_url.removeprefix("sqlite:///")
        paths = []
        for descriptor in os.listdir("/proc/self/fd"):
            try:
                paths.append(os.readlink(f"/proc/self/fd/{descriptor}"))
            except OSError:  # closed meanwhile (the listing's own descriptor)
                continue
        return sum(path.startswith(database) for path in paths)
    with psycopg.connect(POSTGRES_URL, autocommit=True, application_name="amanah-teardown-counter") as connection:
        return connection.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                                  (application_name,)).fetchone()[0]


def closed(settings, application_name: str, within_s: float = 10.0) -> bool:
    """Whether the app's connections are gone: at once for SQLite's files; a PostgreSQL backend
    leaves pg_stat_activity only when its process exits, a moment after the client closed the
    socket (seen: 3 sessions still listed right after close on a loaded machine), so wait for it.
    A connection left open stays listed, and the test still fails."""
    deadline = time.monotonic() + within_s
    while open_connections(settings, application_name) != 0:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def named(world, monkeypatch) -> str:
    """A PostgreSQL application name for the connections opened from now on (libpq reads PGAPPNAME
    when it connects), so the app's sessions can be told from others'. The world's own ledger is
    closed first: SQLite keeps a closed connection's database file open while another connection
    of the same process holds locks on it, so only then does a closed app leave no file open."""
    world.ledger.close()
    name = f"amanah-teardown-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", name)
    return name


def used_app(world):
    """An app that has read, and stored a submission (so it took the write turn)."""
    app = create_app({"SETTINGS": world.settings, "TESTING": True})
    client = app.test_client()
    assert client.get("/api/v1/health").status_code == 200
    key = signing.generate()
    document = world.registrar.one("register-teardown", "organisation.registered", "2025-01-02T00:00:00Z", {
        "organisation": "pt-teardown", "legal_name": "PT TEARDOWN", "kind": "company",
        "public_key": public_key_b64(key)})
    assert client.post("/api/v1/submissions", json=document).status_code == 201
    assert client.get("/api/v1/keys").status_code == 200
    return app


def test_closing_the_app_closes_its_connections_and_closing_again_is_harmless(world, named):
    assert open_connections(world.settings, named) == 0
    app = used_app(world)
    assert open_connections(world.settings, named) > 0, "the app opened nothing: the test would prove nothing"
    close_app(app)
    assert closed(world.settings, named)
    assert app not in _OPEN_APPS
    close_app(app)
    app.extensions["amanah"].close()
    assert closed(world.settings, named)


def test_the_gunicorn_worker_exit_hook_closes_the_workers_app(world, named):
    assert open_connections(world.settings, named) == 0
    app = used_app(world)
    options = server.options("127.0.0.1:0", workers=1)
    worker = type("Worker", (), {"wsgi": app})()
    options["worker_exit"](None, worker)
    assert closed(world.settings, named)
    options["worker_exit"](None, worker)


def test_an_app_nobody_closed_is_closed_at_exit(world, named):
    from api.app import _close_open_apps  # what atexit runs

    assert open_connections(world.settings, named) == 0
    app = used_app(world)
    assert app in _OPEN_APPS
    _close_open_apps()
    assert closed(world.settings, named) and app not in _OPEN_APPS


def test_the_hook_is_set_for_gunicorn():
    assert server.options("127.0.0.1:0", workers=2)["worker_exit"] is server.close_worker_app
