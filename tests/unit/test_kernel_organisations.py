"""Organisations and their keys against the kernel in memory: given the registrations, when a
key change, then its event (the class the store names it by) or a named refusal; and the
offline verifier replays the same keys the writer holds."""

from __future__ import annotations

import pytest

from ledger import payloads, signing
from ledger.bundle import organisations_json
from ledger.client import Signer, public_key_b64
from ledger.errors import AlreadyExists, NotFound, RevokedKey, RuleViolation, UnknownKey
from ledger.organisations import Organisation, organisation_uuid
from ledger.verify import Verifier
from tests.kernel import kernel_world  # noqa: F401

WHEN = "2025-01-03T08:00:00Z"
PROGRAMME = "sertakan-jakut-2025"


def _key_change(world, key: str, event_type: str, payload: dict) -> dict:
    return world.ledger.submit(world.registrar.one(key, event_type, WHEN, {"organisation": "pt-maju-bersama",
                                                                           **payload}))


def _events_of(world, organisation_id: str) -> list[str]:
    return [type(event).__qualname__ for event in world.ledger.events[organisation_uuid(organisation_id)]]


def _pledge(signer: Signer, key: str) -> dict:
    return signer.one(key, "pledge.made", WHEN, payloads.pledge(PROGRAMME, key, 1_000_000))


def test_a_rotated_key_signs_from_the_next_entry_and_the_old_one_is_refused(kernel_world):  # noqa: F811
    world = kernel_world
    city = world.register("pemkot-jakarta-utara", "city")
    world.ledger.submit(city.one("open", "programme.opened", "2025-01-02T08:00:00Z",
                                 payloads.programme_opened(PROGRAMME, 2025)))
    new_key = signing.generate()
    rotated = _key_change(world, "rotate", "key.rotated", {"public_key": public_key_b64(new_key),
                                                          "replaces": world.company.key_id})
    assert _events_of(world, "pt-maju-bersama") == ["Organisation.Registered", "Organisation.KeyRotated"]
    with pytest.raises(RevokedKey) as refused:
        world.ledger.submit(_pledge(world.company, "old-key"))
    assert refused.value.detail == (f"key {world.company.key_id} of pt-maju-bersama was revoked at entry "
                                    f"{rotated['first_index']}")
    world.ledger.submit(_pledge(Signer(world.settings.origin, "pt-maju-bersama", new_key), "new-key"))
    keys = world.ledger.organisation("pt-maju-bersama").keys
    assert (keys[world.company.key_id].revoked_at, keys[world.company.key_id].revocation_reason) == (
        rotated["first_index"], "rotated")
    assert world.ledger.verify().ok


@pytest.mark.parametrize("event_type, payload, error, field", [
    ("key.revoked", lambda world: {"key_id": world.company.key_id, "reason": "lost"}, RuleViolation,
     "payload.key_id"),
    ("key.added", lambda world: {"public_key": public_key_b64(world.company.private_key)}, AlreadyExists,
     "payload.public_key"),
    ("key.rotated", lambda world: {"public_key": public_key_b64(signing.generate()), "replaces": "0" * 32},
     RuleViolation, "payload.replaces"),
])
def test_a_refused_key_change_names_its_rule_and_stores_nothing(kernel_world, event_type, payload, error,  # noqa: F811
                                                               field):
    world = kernel_world
    before = world.ledger.size(), _events_of(world, "pt-maju-bersama")
    with pytest.raises(error) as refused:
        _key_change(world, "change", event_type, payload(world))
    assert refused.value.field == field
    assert (world.ledger.size(), _events_of(world, "pt-maju-bersama")) == before


def test_a_key_change_for_an_unregistered_organisation_is_refused(kernel_world):  # noqa: F811
    world = kernel_world
    with pytest.raises(NotFound) as refused:
        world.ledger.submit(world.registrar.one("add", "key.added", WHEN, {
            "organisation": "pt-nobody", "public_key": public_key_b64(signing.generate())}))
    assert (refused.value.field, refused.value.detail) == (
        "payload.organisation", "organisation 'pt-nobody' is not registered")


def test_the_verifier_replays_the_keys_the_writer_holds(kernel_world):  # noqa: F811
    world = kernel_world
    second, third = signing.generate(), signing.generate()
    _key_change(world, "add", "key.added", {"public_key": public_key_b64(second)})
    _key_change(world, "revoke", "key.revoked", {"key_id": world.company.key_id, "reason": "laptop stolen"})
    second_id = Signer(world.settings.origin, "pt-maju-bersama", second).key_id
    _key_change(world, "rotate", "key.rotated", {"public_key": public_key_b64(third), "replaces": second_id})
    with pytest.raises(UnknownKey):
        world.ledger.submit(Signer(world.settings.origin, "pt-maju-bersama", signing.generate()).one(
            "stranger", "pledge.made", WHEN, payloads.pledge(PROGRAMME, "x", 1)))

    verifier = Verifier()
    for entry in world.ledger.log:
        verifier.feed(entry.index, entry.leaf)
    assert verifier.finish().ok
    replayed = {item["organisation"]: item for item in organisations_json(verifier)}["pt-maju-bersama"]
    writer: Organisation = world.ledger.organisation("pt-maju-bersama")
    assert [(key["key_id"], key["valid_from"], key["revoked_at"], key["revocation_reason"])
            for key in replayed["keys"]] == [(key.key_id, key.valid_from, key.revoked_at, key.revocation_reason)
                                             for key in writer.keys.values()]
    assert [key["revocation_reason"] for key in replayed["keys"]] == ["laptop stolen", "rotated", None]
