"""A reader's witness policy: K valid, recent cosignatures from the witnesses it lists."""

from __future__ import annotations

import pytest

from ledger import signing
from ledger.errors import InvalidInput
from ledger.witness import cosign, cosigner_verifier_key
from ledger.witness_policy import NotWitnessed, WitnessPolicy, check_witnessed
from tests.witness.support import MemoryLog, key_from, leaves

NOW = 1_764_000_000
LOG = MemoryLog(key_from("log"), leaves("entry", 9))
CITY, AUDITOR, STRANGER = key_from("city"), key_from("auditor"), key_from("stranger")


def _vkey(name: str, key) -> str:
    return cosigner_verifier_key(name, signing.public_key_bytes(key))


CITY_KEY, AUDITOR_KEY = _vkey("witness.city/w1", CITY), _vkey("witness.auditor/w1", AUDITOR)
POLICY = WitnessPolicy((CITY_KEY, AUDITOR_KEY), quorum=2, max_age_seconds=3600)


def _cosigned(size: int, *signers: tuple[str, object, int], body_size: int | None = None) -> str:
    note_text = LOG.checkpoint(size)
    body = LOG.checkpoint(body_size or size).split("\n\n")[0] + "\n"
    return note_text + "".join(cosign(body, name, key, timestamp) for name, key, timestamp in signers)


def test_two_valid_recent_cosignatures_meet_a_quorum_of_two():
    text = _cosigned(9, ("witness.city/w1", CITY, NOW - 10), ("witness.auditor/w1", AUDITOR, NOW - 20))
    accepted = check_witnessed(text, POLICY, NOW)
    assert sorted(item.name for item in accepted) == ["witness.auditor/w1", "witness.city/w1"]


@pytest.mark.parametrize("signers, body_size, why", [
    ([("witness.city/w1", CITY, NOW)], None, "witness.auditor/w1: no valid cosignature"),
    ([("witness.city/w1", CITY, NOW), ("witness.stranger/w1", STRANGER, NOW)], None, "1 of the 2"),
    ([("witness.city/w1", CITY, NOW), ("witness.auditor/w1", STRANGER, NOW)], None, "1 of the 2"),
    ([("witness.city/w1", CITY, NOW), ("witness.auditor/w1", AUDITOR, NOW)], 8, "0 of the 2"),
    ([("witness.city/w1", CITY, NOW), ("witness.auditor/w1", AUDITOR, NOW - 7200)], None, "over the 3600 s"),
    ([("witness.city/w1", CITY, NOW), ("witness.auditor/w1", AUDITOR, NOW + 86400)], None, "in the future"),
], ids=["one-cosignature", "unlisted-key", "listed-name-other-key", "other-root", "stale", "future"])
def test_a_checkpoint_short_of_the_quorum_is_refused(signers, body_size, why):
    with pytest.raises(NotWitnessed, match=why):
        check_witnessed(_cosigned(9, *signers, body_size=body_size), POLICY, NOW)


def test_a_quorum_of_one_accepts_either_witness_and_no_age_limit_accepts_old_ones():
    policy = WitnessPolicy((CITY_KEY, AUDITOR_KEY), quorum=1)
    assert len(check_witnessed(_cosigned(9, ("witness.auditor/w1", AUDITOR, NOW - 10**6)), policy, NOW)) == 1


@pytest.mark.parametrize("witnesses, quorum, field", [
    ((CITY_KEY,), 2, "quorum"), ((CITY_KEY,), 0, "quorum"), ((CITY_KEY, CITY_KEY), 1, "witness"),
    ((LOG.verifier_key,), 1, "witness"),
])
def test_a_policy_that_cannot_be_met_is_refused_naming_the_flag(witnesses, quorum, field):
    with pytest.raises(InvalidInput) as error:
        WitnessPolicy(witnesses, quorum)
    assert error.value.field == field
