"""Signed submissions on SQLite and PostgreSQL: what is stored, replays, and refusals that
store nothing at all."""

from __future__ import annotations

import json
import threading

import pytest

from ledger import merkle, payloads, signing
from ledger.application import Ledger
from ledger.bundle import verify_database
from ledger.canonical import canonical_bytes
from ledger.client import Signer, public_key_b64
from ledger.config import Settings
from ledger.domain.common import aggregate_uuid
from ledger.entry import parse_entry
from ledger.errors import (
    AlreadyExists, BadSignature, IdempotencyConflict, InvalidInput, LedgerAlreadyInitialised,
    LedgerError, LedgerNotInitialised, NotPermitted, RevokedKey, RuleViolation, UnknownActor,
    UnknownEventType, UnknownKey,
)
from tests.conftest import genesis_submission
from tests.integration.support import PROGRAMME, WHEN, b64, leaf_hash_of, observe, pledge, pledge_batch

# ---- what is stored ----------------------------------------------------------------------------


def test_a_pledge_and_a_300_line_batch_are_stored_and_covered_by_a_checkpoint(opened):
    ledger, company = opened.ledger, opened.company
    size_before = ledger.size()
    single_document = pledge(company, "single", "p-1", 7_500_000)
    batch_document = pledge_batch(company, "batch-300", 300)

    single = ledger.submit(single_document)
    batch = ledger.submit(batch_document)

    assert (single["first_index"], single["last_index"], single["count"]) == (size_before, size_before, 1)
    assert (batch["first_index"], batch["last_index"], batch["count"]) == (size_before + 1, size_before + 300, 300)
    assert not single["replayed"] and not batch["replayed"]
    assert single["checkpoint"]["tree_size"] == size_before + 1 and single["checkpoint_includes_entries"]
    assert batch["checkpoint"]["tree_size"] == size_before + 301 and batch["checkpoint_includes_entries"]
    assert ledger.size() == size_before + 301

    # The leaves hold the signed envelopes exactly as submitted, with the signature and index.
    [(index, leaf)] = ledger.entries(single["first_index"], 1)
    entry = parse_entry(leaf)
    assert index == entry.index == single["first_index"]
    assert entry.envelope == single_document["envelopes"][0]
    assert entry.signature == single_document["signature"] and entry.batch is None
    assert canonical_bytes(single_document["envelopes"][0]) in leaf

    rows = ledger.entries(batch["first_index"], 300)
    assert [index for index, _ in rows] == list(range(batch["first_index"], batch["last_index"] + 1))
    for position, (index, leaf) in enumerate(rows):
        entry = parse_entry(leaf)
        assert entry.envelope == batch_document["envelopes"][position]
        assert entry.signature == batch_document["signature"]
        assert entry.batch["size"] == 300
    assert leaf_hash_of(ledger, batch["last_index"]) == b64(
        ledger.inclusion_proof(batch["last_index"], ledger.size())["leaf_hash"])

    # The checkpoint's root is the root of the stored tree, and another process sees the same.
    assert ledger.root(ledger.size()) == b64(batch["checkpoint"]["root"])
    other = opened.reopen()
    try:
        assert other.size() == ledger.size()
        assert other.root(other.size()) == ledger.root(ledger.size())
        assert other.latest_checkpoint() == ledger.latest_checkpoint()
        assert other.entries(single["first_index"], 1) == ledger.entries(single["first_index"], 1)
    finally:
        other.close()


def test_a_second_process_sees_what_the_first_stored_and_applies_the_same_rules(opened):
    other = opened.reopen()
    try:
        opened.ledger.submit(pledge(opened.company, "first-process", "p-1"))
        with pytest.raises(AlreadyExists):  # p-1 was stored through the other application
            other.submit(pledge(opened.company, "second-process", "p-1"))
        stored = other.submit(pledge(opened.company, "second-process", "p-2"))
        assert stored["first_index"] == opened.ledger.size() - 1
        with pytest.raises(AlreadyExists):
            opened.ledger.submit(pledge(opened.company, "first-process-again", "p-2"))
    finally:
        other.close()


def test_a_programme_another_process_changed_is_brought_forward_by_its_new_events_alone(opened):
    """A programme gains an event with every pledge, receipt and batch: a process whose cached
    programme another process changed applies those events to it, rather than replaying the
    programme's whole history on its next submission, and decides on the same state."""
    other = opened.reopen()
    try:
        other.submit(pledge(opened.company, "other-1", "p-1"))
        programme_id = aggregate_uuid("programme", PROGRAMME)
        held = other.cache.get(programme_id)
        assert held is not None and "p-1" in held.pledges
        for number in (2, 3):
            opened.ledger.submit(pledge(opened.company, f"first-{number}", f"p-{number}", 1_000_000 * number))
        other.submit(pledge(opened.company, "other-4", "p-4"))

        carried = other.cache.get(programme_id)
        assert carried is held  # brought forward, not reloaded
        with pytest.raises(AlreadyExists):  # p-3 came through the first process
            other.submit(pledge(opened.company, "other-3", "p-3"))
        afresh = opened.reopen()
        try:
            loaded = afresh.aggregate(programme_id)
            assert loaded is not carried
            assert (carried.version, vars(carried)) == (loaded.version, vars(loaded))
            assert sorted(carried.pledges) == ["p-1", "p-2", "p-3", "p-4"]
        finally:
            afresh.close()
    finally:
        other.close()


# ---- idempotency -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["single", "batch"])
def test_resubmitting_the_same_signed_submission_is_a_replay_that_stores_nothing(opened, shape):
    document = pledge(opened.company, "same", "p-1") if shape == "single" else pledge_batch(opened.company, "same", 5)
    first = opened.ledger.submit(document)
    before = observe(opened.ledger)

    again = opened.ledger.submit(document)
    other = opened.reopen()  # a retry that reaches another process is a replay too
    try:
        from_elsewhere = other.submit(document)
    finally:
        other.close()

    for replay in (again, from_elsewhere):
        assert replay["replayed"] is True
        assert (replay["first_index"], replay["last_index"], replay["count"]) == (
            first["first_index"], first["last_index"], first["count"])
    assert observe(opened.ledger) == before


def test_the_same_idempotency_key_with_other_content_is_a_conflict_that_stores_nothing(opened):
    opened.ledger.submit(pledge(opened.company, "invoice-17", "p-1", 5_000_000))
    before = observe(opened.ledger)
    for changed in (pledge(opened.company, "invoice-17", "p-1", 6_000_000),
                    pledge(opened.company, "invoice-17", "p-2", 5_000_000),
                    pledge_batch(opened.company, "invoice-17", 3)):
        with pytest.raises(IdempotencyConflict) as refused:
            opened.ledger.submit(changed)
        assert "invoice-17" in str(refused.value)
        assert observe(opened.ledger) == before


def test_idempotency_keys_belong_to_each_actor(opened):
    other_company = opened.register("pt-sejahtera", "company")
    first = opened.ledger.submit(pledge(opened.company, "k-1", "p-1"))
    second = opened.ledger.submit(pledge(other_company, "k-1", "p-2"))
    assert not second["replayed"] and second["first_index"] == first["last_index"] + 1


# ---- refusals ----------------------------------------------------------------------------------


def _flip_signature_byte(document: dict) -> dict:
    raw = bytearray(b64(document["signature"]))
    raw[17] ^= 0x01
    document["signature"] = signing.b64encode(bytes(raw))
    return document


def _signed_by(document: dict, private_key) -> dict:
    """Keep the envelopes (and the key id they claim) but sign them with another key."""
    [envelope] = document["envelopes"]
    document["signature"] = signing.b64encode(signing.sign(private_key, canonical_bytes(envelope)))
    return document


def _batch_with_line_37(opened, change: str) -> dict:
    events = [("pledge.made", WHEN, payloads.pledge(PROGRAMME, f"b-{n}", 1_000_000)) for n in range(50)]
    if change == "amount 0":
        events[37][2]["amount_rupiah"] = 0
    elif change == "duplicate pledge id":
        events[37][2]["pledge"] = "b-12"
    document = opened.company.submission("batch-50", events)
    if change == "amount 2**53":  # our client cannot even encode it; a hostile one sends it anyway
        document["envelopes"][37]["payload"]["amount_rupiah"] = 2**53
        encoded = [json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()
                   for envelope in document["envelopes"]]  # and signs it
        root = merkle.root_of([merkle.leaf_hash(data) for data in encoded])
        document["signature"] = signing.b64encode(signing.sign(opened.company.private_key, root))
    return document


def _changed_after_signing(document: dict, position: int = 0) -> dict:
    document["envelopes"][position]["payload"]["amount_rupiah"] += 1
    return document


REFUSALS = {
    "forged signature": (lambda w: _flip_signature_byte(pledge(w.company, "k", "p-1")), BadSignature),
    "key not registered to the actor": (
        lambda w: pledge(Signer(w.company.origin, w.company.actor, signing.generate()), "k", "p-1"), UnknownKey),
    "another org's key under its own key id": (
        lambda w: pledge(Signer(w.company.origin, w.company.actor, w.registrar.private_key), "k", "p-1"),
        (UnknownKey, BadSignature)),
    "another org's key under the actor's key id": (
        lambda w: _signed_by(pledge(w.company, "k", "p-1"), w.registrar.private_key), (BadSignature, UnknownKey)),
    "company registering an organisation": (
        lambda w: w.company.one("k", "organisation.registered", WHEN, {
            "organisation": "pt-palsu", "legal_name": "PT Palsu", "kind": "company",
            "public_key": public_key_b64(signing.generate())}), NotPermitted),
    "auditor pledging": (lambda w: pledge(w.register("kap-audit", "auditor"), "k", "p-1"), NotPermitted),
    "unknown actor": (lambda w: pledge(Signer(w.company.origin, "pt-hantu", signing.generate()), "k", "p-1"),
                      UnknownActor),
    "unknown event type": (lambda w: w.company.one("k", "pledge.doubled", WHEN, {"pledge": "p-1"}),
                           UnknownEventType),
    "batch line 37 amount 0": (lambda w: _batch_with_line_37(w, "amount 0"), InvalidInput),
    "batch line 37 amount 2**53": (lambda w: _batch_with_line_37(w, "amount 2**53"), InvalidInput),
    "batch line 37 duplicate pledge id": (lambda w: _batch_with_line_37(w, "duplicate pledge id"), AlreadyExists),
    "single envelope changed after signing": (
        lambda w: _changed_after_signing(pledge(w.company, "k", "p-1")), BadSignature),
    "batch envelope changed after signing": (
        lambda w: _changed_after_signing(pledge_batch(w.company, "k", 10), 7), BadSignature),
    "another ledger's origin": (
        lambda w: pledge(Signer("another-ledger.example/log", w.company.actor, w.company.private_key), "k", "p-1"),
        InvalidInput),
    "personal data beside a pledge": (
        lambda w: {**pledge(w.company, "k", "p-1"), "personal": {"0": {"name": "Budi"}}}, InvalidInput),
    "revoking the company's only key": (
        lambda w: w.registrar.one("revoke-only-key", "key.revoked", WHEN, {
            "organisation": w.company.actor, "key_id": w.company.key_id, "reason": "lost"}), RuleViolation),
    "second genesis": (
        lambda w: w.registrar.one("genesis-again", "ledger.created", WHEN, genesis_submission(
            w.settings, w.registrar, w.checkpoint_key)["envelopes"][0]["payload"]), LedgerAlreadyInitialised),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_submission_stores_nothing(opened, case):
    build, expected = REFUSALS[case]
    document = build(opened)
    before = observe(opened.ledger)

    with pytest.raises(expected) as refused:
        opened.ledger.submit(document)

    assert observe(opened.ledger) == before
    if case.startswith("batch line 37"):
        field = refused.value.field or ""
        assert "envelopes[37]" in field or "payload" in field, field
        if "duplicate" in case:
            assert "b-12" in str(refused.value)  # which pledge, since the field names no line
    if case == "another ledger's origin":
        assert refused.value.field == "envelopes[0].ledger"
    if case == "personal data beside a pledge":
        assert refused.value.field == "personal.0"
    # The refusal left no trace: the same key and pledge id are still free, and the log goes on.
    stored = opened.ledger.submit(pledge(opened.company, "k", "p-1"))
    assert stored["first_index"] == before[0] and not stored["replayed"]
    if case.startswith("batch"):
        opened.ledger.submit(pledge_batch(opened.company, "batch-50", 50))


def test_a_revoked_key_is_refused_and_the_added_key_signs(opened):
    ledger, registrar, company = opened.ledger, opened.registrar, opened.company
    second_key = signing.generate()
    ledger.submit(registrar.one("add-key", "key.added", WHEN, {
        "organisation": company.actor, "public_key": public_key_b64(second_key)}))
    second = Signer(company.origin, company.actor, second_key)
    ledger.submit(pledge(company, "before-revocation", "p-0"))  # both keys count until revoked
    ledger.submit(pledge(second, "with-second-key", "p-1"))
    ledger.submit(registrar.one("revoke-key", "key.revoked", WHEN, {
        "organisation": company.actor, "key_id": company.key_id, "reason": "laptop stolen"}))
    before = observe(ledger)

    with pytest.raises(RevokedKey):
        ledger.submit(pledge(company, "after-revocation", "p-2"))
    assert observe(ledger) == before
    assert not ledger.submit(pledge(second, "after-revocation", "p-2"))["replayed"]
    # What was signed before the revocation still verifies afterwards.
    assert verify_database(ledger).ok


def test_a_rotated_key_is_refused_and_its_replacement_signs(opened):
    ledger, registrar, company = opened.ledger, opened.registrar, opened.company
    new_key = signing.generate()
    ledger.submit(registrar.one("rotate", "key.rotated", WHEN, {
        "organisation": company.actor, "public_key": public_key_b64(new_key), "replaces": company.key_id}))
    before = observe(ledger)

    with pytest.raises(RevokedKey):
        ledger.submit(pledge(company, "old-key", "p-1"))
    assert observe(ledger) == before
    result = ledger.submit(pledge(Signer(company.origin, company.actor, new_key), "new-key", "p-1"))
    assert result["first_index"] == before[0]


@pytest.mark.parametrize("change", ["key.rotated", "key.revoked"])
def test_everything_accepted_verifies_when_the_registrar_retires_its_signing_key_mid_batch(world, change):
    """The registrar retires the very key that signs the batch, then registers a company in the
    same batch. The spec (docs/verifying.md) has a key valid for entries before its revocation,
    so the second entry is signed by a retired key: the ledger must refuse the batch, or else
    what it stored must still verify. It may not store a log that fails its own verifier."""
    ledger, registrar = world.ledger, world.registrar
    spare = signing.generate()
    if change == "key.revoked":
        ledger.submit(registrar.one("spare-key", "key.added", WHEN, {
            "organisation": registrar.actor, "public_key": public_key_b64(spare)}))
        retire = {"organisation": registrar.actor, "key_id": registrar.key_id, "reason": "retired"}
    else:
        retire = {"organisation": registrar.actor, "public_key": public_key_b64(spare),
                  "replaces": registrar.key_id}
    before = observe(ledger)
    document = registrar.submission("retire-and-register", [
        (change, WHEN, retire),
        ("organisation.registered", WHEN, {"organisation": "pt-baru", "legal_name": "PT Baru", "kind": "company",
                                           "public_key": public_key_b64(signing.generate())})])
    try:
        ledger.submit(document)
    except LedgerError:  # refusing the batch is one correct outcome
        assert observe(ledger) == before
    report = verify_database(ledger)
    assert report.ok, [str(failure) for failure in report.failures]


def _at_once(applications: list[Ledger], documents: list[dict]) -> list[dict | LedgerError]:
    """Each application submits its document, all released at the same moment (as server
    workers on one database would); the results in application order."""
    results: list = [None] * len(applications)
    barrier = threading.Barrier(len(applications))

    def work(number: int) -> None:
        barrier.wait()
        try:
            results[number] = applications[number].submit(documents[number])
        except LedgerError as error:
            results[number] = error

    threads = [threading.Thread(target=work, args=(number,)) for number in range(len(applications))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def workers(opened):
    applications = [opened.reopen() for _ in range(4)]
    yield applications
    for application in applications:
        application.close()


def test_concurrent_writers_lose_nothing_and_one_wins_each_pledge_id(opened, workers):
    size_before = opened.ledger.size()
    stored = []
    for round_ in range(5):
        own = _at_once(workers, [pledge(opened.company, f"own-{round_}-{n}", f"own-{round_}-{n}")
                                 for n in range(len(workers))])
        assert [result for result in own if not isinstance(result, dict)] == []
        race = _at_once(workers, [pledge(opened.company, f"race-{round_}-{n}", f"race-{round_}")
                                  for n in range(len(workers))])
        winners = [result for result in race if isinstance(result, dict)]
        assert len(winners) == 1 and all(isinstance(result, AlreadyExists) for result in race
                                         if not isinstance(result, dict))
        stored += own + winners
    assert opened.ledger.size() == size_before + 5 * (len(workers) + 1)
    assert sorted(result["first_index"] for result in stored) == list(range(size_before, opened.ledger.size()))
    assert verify_database(opened.ledger).ok


def test_concurrent_retries_of_one_submission_all_get_its_result(opened, workers):
    """A client that times out retries, and the retry can reach another worker while the first
    is still storing. Every copy must get the stored result (replayed or not), never a refusal
    of the client's own, stored submission."""
    size_before = opened.ledger.size()
    refused = []
    for round_ in range(40):  # the race is narrow: repeat it (one round hits it about one in six)
        document = pledge(opened.company, f"retry-{round_}", f"retry-{round_}")
        results = _at_once(workers, [document] * len(workers))
        refused += [(round_, result) for result in results if not isinstance(result, dict)]
        assert sum(isinstance(result, dict) and not result["replayed"] for result in results) <= 1
    assert refused == []
    assert opened.ledger.size() == size_before + 40


def test_the_same_signed_genesis_again_is_a_replay(world):
    again = world.ledger.submit(genesis_submission(world.settings, world.registrar, world.checkpoint_key))
    assert again["replayed"] and again["first_index"] == 0


def test_submissions_before_genesis_are_refused(database_url, tmp_path):
    settings = Settings.from_environment({"AMANAH_HOME": str(tmp_path), "AMANAH_DATABASE_URL": database_url})
    ledger = Ledger(settings, signing.generate())
    try:
        stranger = Signer(settings.origin, "pt-maju-bersama", signing.generate())
        registrar = Signer(settings.origin, "registrar", signing.generate())
        for document in (pledge(stranger, "k", "p-1"),
                         registrar.one("k", "organisation.registered", WHEN, {
                             "organisation": "pt-maju-bersama", "legal_name": "PT", "kind": "company",
                             "public_key": public_key_b64(signing.generate())})):
            with pytest.raises(LedgerNotInitialised) as refused:
                ledger.submit(document)
            assert isinstance(refused.value, LedgerError)
        assert ledger.size() == 0 and ledger.latest_checkpoint() is None and ledger.genesis() is None
    finally:
        ledger.close()
