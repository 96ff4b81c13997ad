"""The ledger asks its witnesses after commits, keeps writing while one is down, and catches it up."""

from __future__ import annotations

import dataclasses
import socket
import time

import pytest

from api.app import create_app
from ledger import note, signing
from ledger.witness_client import WitnessEndpoint, Witnessing, WitnessWorker
from ledger.witness_policy import WitnessPolicy, check_witnessed
from ledger.witness_table import cosigned, witness_sizes
from tests.witness.support import LoopbackWitness, write_witness_config


@pytest.fixture
def witnesses(world, tmp_path):
    log_key = note.verifier_key(world.settings.origin, signing.public_key_bytes(world.checkpoint_key))
    started = []
    for name in ("witness.city.test/w1", "witness.auditor.test/w1"):
        config, vkey = write_witness_config(tmp_path / name.split("/")[0], name, {world.settings.origin: [log_key]})
        server = LoopbackWitness(config).start()
        started.append((server, WitnessEndpoint(server.url, vkey)))
    yield started
    for server, _ in started:
        if server.running is not None:
            server.stop()


def _register(world, count: int, prefix: str) -> None:
    for number in range(count):
        world.register(f"{prefix}-{number}", "company")


def test_both_witnesses_cosign_and_the_checkpoint_meets_a_quorum_of_two(world, witnesses):
    endpoints = [endpoint for _, endpoint in witnesses]
    outcomes = Witnessing(world.ledger, endpoints, 2.0).witness_latest()
    assert outcomes == {"witness.city.test/w1": "cosigned", "witness.auditor.test/w1": "cosigned"}
    latest = cosigned(world.ledger, world.ledger.latest_checkpoint())
    policy = WitnessPolicy(tuple(endpoint.verifier_key for endpoint in endpoints), 2)
    assert len(check_witnessed(latest["note"], policy, time.time())) == 2
    assert [item["witness"] for item in latest["cosignatures"]] == ["witness.auditor.test/w1", "witness.city.test/w1"]
    # The note stays a valid signed note for a reader who knows only the log's key.
    note.verify_checkpoint(latest["note"], world.settings.origin, signing.public_key_bytes(world.checkpoint_key))


def test_writes_go_on_while_a_witness_is_down_and_it_is_caught_up_on_return(world, witnesses):
    (city, city_endpoint), (auditor, auditor_endpoint) = witnesses
    witnessing = Witnessing(world.ledger, [city_endpoint, auditor_endpoint], 2.0)
    witnessing.witness_latest()
    cosigned_before = world.ledger.latest_checkpoint()["tree_size"]
    auditor.stop()
    _register(world, 3, "while-down")
    outcomes = witnessing.witness_latest()
    assert outcomes["witness.city.test/w1"] == "cosigned"
    assert outcomes["witness.auditor.test/w1"].startswith("unreachable")
    size = world.ledger.latest_checkpoint()["tree_size"]
    assert size == cosigned_before + 3
    assert witness_sizes(world.ledger)[auditor_endpoint.verifier_key] == cosigned_before
    auditor.start()  # same port, same state file: it remembers size `cosigned_before`
    assert witnessing.witness_latest() == {"witness.auditor.test/w1": "cosigned"}  # with a proof from there
    assert auditor.state.latest(world.settings.origin).size == size
    assert len(cosigned(world.ledger, world.ledger.latest_checkpoint())["cosignatures"]) == 2


def test_a_ledger_that_forgot_what_a_witness_saw_learns_it_from_the_409(world, witnesses):
    (_, city_endpoint), _ = witnesses
    Witnessing(world.ledger, [city_endpoint], 2.0).witness_latest()
    _register(world, 2, "later")
    forgetful = Witnessing(world.ledger, [city_endpoint], 2.0)
    forgetful.sizes = {}  # asks with old size 0; the witness answers 409 with its size
    assert forgetful.witness_latest() == {"witness.city.test/w1": "cosigned"}


def test_a_hanging_witness_never_holds_up_a_writer(world, witnesses):
    (_, city_endpoint), _ = witnesses
    black_hole = socket.socket()
    black_hole.bind(("127.0.0.1", 0))
    black_hole.listen(8)  # accepts connections into the backlog and never answers
    hanging = WitnessEndpoint(f"http://127.0.0.1:{black_hole.getsockname()[1]}", witnesses[1][1].verifier_key)
    worker = WitnessWorker(Witnessing(world.ledger, [hanging, city_endpoint], 1.0), poll_seconds=0.05).start()
    try:
        for number in range(3):
            started = time.monotonic()
            world.register(f"during-hang-{number}", "company")
            assert time.monotonic() - started < 0.9  # well under the witness timeout
        deadline = time.monotonic() + 15
        size = world.ledger.latest_checkpoint()["tree_size"]
        while witness_sizes(world.ledger).get(city_endpoint.verifier_key) != size:
            assert time.monotonic() < deadline, "the reachable witness was never asked"
            time.sleep(0.05)
    finally:
        worker.stop()
        black_hole.close()


def test_the_api_serves_the_cosigned_checkpoint_and_the_witness_keys(world, witnesses):
    endpoints = tuple(endpoint for _, endpoint in witnesses)
    Witnessing(world.ledger, endpoints, 2.0).witness_latest()
    settings = dataclasses.replace(world.settings, witnesses=endpoints)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    try:
        client = app.test_client()
        text = client.get("/api/v1/checkpoint", headers={"Accept": "text/plain"}).text
        policy = WitnessPolicy(tuple(endpoint.verifier_key for endpoint in endpoints), 2)
        assert len(check_witnessed(text, policy, time.time())) == 2
        as_json = client.get("/api/v1/checkpoint?format=json").json
        assert {item["witness"] for item in as_json["cosignatures"]} == {"witness.city.test/w1", "witness.auditor.test/w1"}
        page = client.get("/?lang=en").text
        assert "Cosigned by witnesses" in page and "witness.auditor.test/w1 (" in page
        services = app.extensions["amanah"]
        services.catch_up()  # statements and award lists cite the checkpoint with its cosignatures
        assert len(check_witnessed(services.reports.checkpoint()["note"], policy, time.time())) == 2
        keys = client.get("/api/v1/keys").json
        assert [item["verifier_key"] for item in keys["witnesses"]] == [endpoint.verifier_key for endpoint in endpoints]
    finally:
        app.extensions["amanah"].close()
