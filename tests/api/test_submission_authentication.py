"""A submission is authenticated (actor, key, signature) before its idempotency key is looked up
and before its payloads are checked: a stranger learns nothing about another actor's keys, and a
forged batch is refused before its per-line work."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import event_types, payloads
from ledger.client import Signer, public_key_b64
from ledger.errors import BadSignature, IdempotencyConflict, RevokedKey, UnknownActor, UnknownKey
from ledger.submission import MAX_BATCH_ENVELOPES
from tests.domain.conftest import PROGRAMME

COMPANY = "pt-maju-bersama"


def pledge(signer: Signer, key: str, pledge_id: str) -> dict:
    return signer.one(key, "pledge.made", "2025-03-01T00:00:00Z", payloads.pledge(PROGRAMME, pledge_id, 1_000_000))


def forged(signer: Signer, key: str, events: list) -> dict:
    """A submission naming `signer`'s actor and key id, signed with someone else's key."""
    document = Signer(signer.origin, signer.actor, Ed25519PrivateKey.generate()).submission(key, events)
    for envelope in document["envelopes"]:
        envelope["key_id"] = signer.key_id
    return document


def test_a_stranger_naming_a_used_idempotency_key_is_refused_as_unauthenticated(programme):
    company = programme.companies[COMPANY]
    stored = programme.ledger.submit(pledge(company, "used-key", "pl-real"))
    size = programme.ledger.size()
    attempts = [
        (pledge(Signer(company.origin, COMPANY, Ed25519PrivateKey.generate()), "used-key", "pl-fake"), UnknownKey),
        (forged(company, "used-key", [("pledge.made", "2025-03-01T00:00:00Z", payloads.pledge(
            PROGRAMME, "pl-fake", 1_000_000))]), BadSignature),
        (pledge(Signer(company.origin, "pt-nobody", Ed25519PrivateKey.generate()), "used-key", "pl-fake"),
         UnknownActor),
    ]
    for document, error in attempts:
        with pytest.raises(error) as refused:
            programme.ledger.submit(document)
        assert "entries" not in str(refused.value) and "used for a different" not in str(refused.value)
    assert programme.ledger.size() == size
    # the real actor: the same submission is replayed, a different one under the same key conflicts
    assert programme.ledger.submit(pledge(company, "used-key", "pl-real"))["replayed"] is True
    with pytest.raises(IdempotencyConflict, match="used for a different submission"):
        programme.ledger.submit(pledge(company, "used-key", "pl-other"))
    assert stored["first_index"] < size == programme.ledger.size()


def test_a_forged_batch_is_refused_before_its_payloads_are_read(programme, monkeypatch):
    company = programme.companies[COMPANY]
    bad_payload = {"not": "a pledge"}  # would be a 400 naming the field, were payloads read first
    events = [("pledge.made", "2025-03-01T00:00:00Z", bad_payload)] * MAX_BATCH_ENVELOPES
    checked = []
    original = event_types.lookup

    def counting_lookup(name, field):
        checked.append(field)
        return original(name, field)

    monkeypatch.setattr("ledger.submission.lookup", counting_lookup)
    size = programme.ledger.size()
    with pytest.raises(BadSignature):
        programme.ledger.submit(forged(company, "big-forged", events))
    unsigned = company.submission("big-unsigned", events[:2])
    unsigned["signature"] = "A" * 86 + "=="
    with pytest.raises(BadSignature):
        programme.ledger.submit(unsigned)
    assert checked == [] and programme.ledger.size() == size


def test_after_its_key_is_revoked_a_retry_is_still_replayed_but_a_conflict_names_no_entries(programme):
    company = programme.companies[COMPANY]
    programme.ledger.submit(pledge(company, "before-revocation", "pl-kept"))
    registrar = programme.world.registrar
    programme.ledger.submit(registrar.one("add-spare", "key.added", "2025-01-03T00:00:00Z", {
        "organisation": COMPANY, "public_key": public_key_b64(Ed25519PrivateKey.generate())}))
    programme.ledger.submit(registrar.one("revoke-old", "key.revoked", "2025-01-03T00:00:00Z", {
        "organisation": COMPANY, "key_id": company.key_id, "reason": "laptop stolen"}))
    assert programme.ledger.submit(pledge(company, "before-revocation", "pl-kept"))["replayed"] is True
    with pytest.raises(RevokedKey) as refused:  # whoever holds the stolen key learns nothing
        programme.ledger.submit(pledge(company, "before-revocation", "pl-probe"))
    assert "entries" not in str(refused.value)
