"""A write that waits too long for another transaction's lock answers 503 with Retry-After and
stores nothing; a stored submission whose views fail to catch up still answers 201."""

from __future__ import annotations

import dataclasses
import sqlite3
from contextlib import contextmanager

import psycopg
import pytest

from api.app import create_app
from tests.conftest import POSTGRES_URL
from tests.integration.conftest import opened  # noqa: F401
from tests.integration.support import pledge


@contextmanager
def write_lock_held(database_url: str):
    """Another connection holding the lock a writer of the log needs, until the block ends."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.rollback()
            connection.close()
        return
    schema = database_url.partition("?schema=")[2]
    with psycopg.connect(POSTGRES_URL) as connection, connection.transaction():
        connection.execute(f'LOCK TABLE "{schema}"."amanah_events" IN EXCLUSIVE MODE')
        yield


@pytest.fixture
def client(opened):
    settings = dataclasses.replace(opened.settings, lock_timeout_s=1)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    yield app.test_client(), app.extensions["amanah"]
    app.extensions["amanah"].close()


def test_a_write_that_times_out_on_a_lock_answers_503_with_retry_after_and_stores_nothing(opened, client):
    http, _ = client
    before = opened.ledger.size()
    with write_lock_held(opened.settings.database_url):
        response = http.post("/api/v1/submissions", json=pledge(opened.company, "busy", "busy"))
    assert response.status_code == 503, response.get_json()
    assert response.headers["Retry-After"] == "2"
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "storage-busy"
    assert opened.ledger.size() == before
    again = http.post("/api/v1/submissions", json=pledge(opened.company, "busy", "busy"))
    assert again.status_code == 201 and again.get_json()["first_index"] == before


def test_a_stored_submission_answers_201_when_the_views_fail_and_they_catch_up_later(opened, client, monkeypatch,
                                                                                     caplog):
    http, services = client
    before = opened.ledger.size()

    def views_fail(*_arguments, **_options):
        raise RuntimeError("the views database went away")

    monkeypatch.setattr(services.runner, "run", views_fail)
    response = http.post("/api/v1/submissions", json=pledge(opened.company, "stored", "stored"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["first_index"] == before
    response.close()  # as the server does once the answer is sent: the views' catch-up runs, and fails
    assert services.follower.wait_idle(30)
    assert f"the views could not catch up after entries {before}..{before}" in caplog.text
    assert opened.ledger.size() == before + 1
    monkeypatch.undo()
    health = http.get("/api/v1/health").get_json()
    services.catch_up()
    assert services.runner.position() == opened.ledger.size(), health
