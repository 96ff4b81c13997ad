"""The tlog-witness add-checkpoint rules, through the witness's web app."""

from __future__ import annotations

import pytest

from api.witness_app import create_witness_app, open_witness, read_config
from ledger import note
from ledger.witness import find_cosignature
from tests.witness.support import ORIGIN, MemoryLog, key_from, leaves, write_witness_config


@pytest.fixture
def log() -> MemoryLog:
    return MemoryLog(key_from("log key"), leaves("entry", 12))


@pytest.fixture
def witness(tmp_path, log):
    config, vkey = write_witness_config(tmp_path / "w", "witness.test/city", {ORIGIN: [log.verifier_key]})
    witness, state = open_witness(read_config(config), None)
    client = create_witness_app(witness, state).test_client()
    yield client, vkey, state
    state.close()


def _post(client, body: bytes):
    return client.post("/add-checkpoint", data=body, content_type="text/plain")


def test_cosigns_a_first_checkpoint_then_one_that_extends_it(witness, log):
    client, vkey, state = witness
    first = _post(client, log.request(0, 5))
    assert first.status_code == 200, first.text
    cosigned = note.parse_checkpoint(log.checkpoint(5) + first.text)
    assert find_cosignature(cosigned, vkey) is not None
    second = _post(client, log.request(5, 9))
    assert second.status_code == 200, second.text
    assert state.latest(ORIGIN).size == 9


def test_a_stale_old_size_gets_409_with_the_witness_size(witness, log):
    client, _, state = witness
    assert _post(client, log.request(0, 7)).status_code == 200
    stale = _post(client, log.request(0, 9))
    assert stale.status_code == 409
    assert stale.headers["Content-Type"].startswith("text/x.tlog.size")
    assert stale.text == "7\n"
    assert _post(client, log.request(7, 9)).status_code == 200  # caught up with the proof from 7


def test_refusals_name_the_problem_and_change_nothing(witness, log, tmp_path):
    client, _, state = witness
    assert _post(client, log.request(0, 4)).status_code == 200
    stranger = MemoryLog(key_from("another key"), log.leaves)
    other_origin = MemoryLog(log.key, log.leaves, origin="elsewhere.test/log")
    cases = [
        (stranger.request(4, 6), 403),
        (other_origin.request(0, 6), 404),
        (b"old 9\n\n" + log.checkpoint(6).encode(), 400),  # old size beyond the checkpoint
        (b"old 04\n\n" + log.checkpoint(6).encode(), 400),
        (b"nonsense", 400),
        (b"old 4\n" + b"AAAA\n" * 64 + b"\n" + log.checkpoint(6).encode(), 400),
    ]
    for body, status in cases:
        response = _post(client, body)
        assert response.status_code == status, (body[:40], response.text)
    assert state.latest(ORIGIN).size == 4
    assert state.evidence() == []


def test_a_fork_is_refused_and_the_evidence_names_both_checkpoints(witness, log):
    client, _, state = witness
    assert _post(client, log.request(0, 10)).status_code == 200
    # The same key signs another history: the first 5 entries agree, then they differ.
    fork = MemoryLog(log.key, log.leaves[:5] + leaves("forged", 7, 5))
    grown = _post(client, fork.request(10, 12))
    assert grown.status_code == 422
    same_size = _post(client, fork.request(10, 10))
    assert same_size.status_code == 409 and not same_size.headers["Content-Type"].startswith("text/x.tlog")
    assert state.latest(ORIGIN).size == 10  # never cosigned the fork
    evidence = state.evidence()
    assert len(evidence) == 2
    for item in evidence:
        assert item["cosigned_note"] == log.checkpoint(10)
    assert fork.checkpoint(12) in evidence[1]["offered_request"]
    assert fork.checkpoint(10) in evidence[0]["offered_request"]
    # Both are signed by the log's key: together they are proof that the log forked.
    for text in (evidence[0]["cosigned_note"], evidence[1]["offered_request"].split("\n\n", 1)[1]):
        note.verify_checkpoint(text, ORIGIN, note.parse_verifier_key(log.verifier_key)[1])
    assert client.get("/evidence").json[0]["reason"].startswith("this witness cosigned another root")


def test_the_witness_gossips_its_latest_checkpoint_cosigned(witness, log):
    client, vkey, _ = witness
    assert client.get(f"/checkpoint?origin={ORIGIN}").status_code == 404
    _post(client, log.request(0, 8))
    latest = client.get(f"/checkpoint?origin={ORIGIN}")
    checkpoint = note.parse_checkpoint(latest.text)
    assert checkpoint.size == 8 and find_cosignature(checkpoint, vkey) is not None
    assert client.get("/").json["logs"][ORIGIN]["size"] == 8
