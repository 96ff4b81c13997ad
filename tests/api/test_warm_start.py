"""A server's ledger is warm before its first request: the first submission a new process handles
reads no more than later ones do (at 1,000,000 entries a cold one took 2 s)."""

from __future__ import annotations

import dataclasses

import pytest

from api.app import create_app
from ledger import log_store, payloads
from ledger.application import Ledger
from ledger.config import DEFAULT_AGGREGATE_CACHE, Settings
from ledger.errors import ConfigurationError
from ledger.domain.common import aggregate_uuid
from ledger.organisations import organisation_uuid
from tests.domain.conftest import PROGRAMME


@pytest.fixture
def spied(monkeypatch):
    """Calls to the reads a cold cache makes: which aggregates the log's entries touched."""
    calls: list[tuple[int, int]] = []
    real = log_store.select_originators

    def select_originators(cursor, dialect, start, stop):
        calls.append((start, stop))
        return real(cursor, dialect, start, stop)

    monkeypatch.setattr(log_store, "select_originators", select_originators)
    return calls


def test_warming_caches_the_organisations_and_programmes_the_first_submission_needs(programme, spied, monkeypatch):
    programme.pledge("pt-maju-bersama", "pl-1", 100_000_000)
    app = create_app({"SETTINGS": programme.world.settings, "TESTING": True})
    services = app.extensions["amanah"]
    try:
        services.catch_up()
        ledger = services.ledger
        warmth = services.warm()
        assert (warmth.organisations, warmth.programmes, warmth.complete) == (6, 1, True)
        assert warmth.tree_size == ledger.size() == ledger.cache.position
        assert "warmed the ledger at" in warmth.describe()
        for aggregate_id in (aggregate_uuid("programme", PROGRAMME), organisation_uuid("registrar"),
                             organisation_uuid("pt-sinar-laut")):
            assert ledger.cache.get(aggregate_id) is not None

        loaded_from_events = []
        real_get = ledger.repository.get
        monkeypatch.setattr(ledger.repository, "get", lambda aggregate_id, **kw: (
            loaded_from_events.append(aggregate_id), real_get(aggregate_id, **kw))[1])
        signer = programme.companies["pt-sinar-laut"]
        body = signer.one("warm-1", "pledge.made", "2025-06-01T08:00:00Z", payloads.pledge(PROGRAMME, "pl-2", 5_000_000))
        response = app.test_client().post("/api/v1/submissions", json=body)
        assert response.status_code == 201, response.get_json()
        assert spied == []  # the cache was current: nothing to read about other writers
        # Only the signer's key is looked up from its events (before the signature is checked);
        # the rules found the programme, the signer and the registrar in the cache.
        assert loaded_from_events == [organisation_uuid("pt-sinar-laut")]
    finally:
        services.close()


def test_a_new_process_with_an_empty_cache_does_not_read_the_whole_log(programme, spied):
    programme.pledge("pt-maju-bersama", "pl-1", 100_000_000)
    ledger = programme.world.reopen()  # as a new server worker would open it, not warmed
    try:
        size = ledger.size()
        result = ledger.submit(programme.companies["pt-sinar-laut"].one(
            "cold-1", "pledge.made", "2025-06-01T08:00:00Z", payloads.pledge(PROGRAMME, "pl-2", 5_000_000)))
        assert result["first_index"] == size
        assert spied == []  # an empty cache holds nothing another writer could have changed
        assert ledger.cache.position == size + 1
    finally:
        ledger.close()


def test_a_warm_cache_still_forgets_what_another_process_wrote(programme, spied):
    ledger = programme.world.reopen()
    try:
        ledger.submit(programme.companies["pt-sinar-laut"].one(
            "other-1", "pledge.made", "2025-06-01T08:00:00Z", payloads.pledge(PROGRAMME, "pl-9", 5_000_000)))
        programme.pledge("pt-maju-bersama", "pl-1", 100_000_000)  # the first process writes after it
        size = ledger.size()
        spied.clear()  # the first process read what the second wrote; now only the second writes
        ledger.submit(programme.companies["pt-sinar-laut"].one(
            "other-2", "pledge.made", "2025-06-01T08:00:00Z", payloads.pledge(PROGRAMME, "pl-10", 5_000_000)))
        assert spied == [(size - 1, size)]
        pledges = ledger.aggregate(aggregate_uuid("programme", PROGRAMME)).pledges
        assert {"pl-1", "pl-9", "pl-10"} <= set(pledges)
    finally:
        ledger.close()


def test_the_writer_keeps_at_most_the_configured_number_of_aggregates(programme):
    settings = dataclasses.replace(programme.world.settings, aggregate_cache=2)
    ledger = Ledger(settings, programme.world.checkpoint_key, programme.world.ledger.pseudonym_secret)
    try:
        ledger.submit(programme.companies["pt-sinar-laut"].one(
            "small-cache-1", "pledge.made", "2025-06-01T08:00:00Z", payloads.pledge(PROGRAMME, "pl-3", 5_000_000)))
        assert len(ledger.cache.aggregates) == 2  # the submission touched more: the oldest were dropped
        assert programme.world.ledger.cache.limit == DEFAULT_AGGREGATE_CACHE
    finally:
        ledger.close()


@pytest.mark.parametrize("value, reason", [("0", "must be at least 1"), ("many", "must be a whole number")])
def test_a_bad_aggregate_cache_setting_is_refused_naming_it(value, reason):
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_environment({"AMANAH_AGGREGATE_CACHE": value})
    assert raised.value.field == "AMANAH_AGGREGATE_CACHE" and reason in str(raised.value)
    assert Settings.from_environment({"AMANAH_AGGREGATE_CACHE": "120000"}).aggregate_cache == 120_000
