"""Each declared event type's payload check is derived from its declaration (one list of fields),
and an entry's payload decodes once into a frozen value that holds what the payload said."""

from __future__ import annotations

import dataclasses

import pytest

import ledger.checkpoint_keys  # noqa: F401  (registers ledger.checkpoint_key_rotated)
import ledger.domain  # noqa: F401  (registers the money flow's types)
import ledger.organisations  # noqa: F401  (registers genesis and the key events)
from ledger.domain.disbursements import DisbursementMade
from ledger.domain.money import Source
from ledger.entry import LogEntry
from ledger.errors import InvalidInput
from ledger.event_types import REGISTRY
from ledger.payload_types import decode, specs_of

DECLARED = sorted(name for name, event_type in REGISTRY.items() if event_type.payload_type is not None)
DISBURSEMENT = {"programme": "sertakan-jakut-2025", "disbursement": "disbursement-1", "to": "bpjs-jakut",
                "amount_rupiah": 300, "period": "2025-02", "made_on": "2025-02-05",
                "sources": [{"receipt": "receipt-1", "company": "pt-maju", "amount_rupiah": 300}]}


def test_every_event_type_declares_its_payload():
    assert DECLARED == sorted(REGISTRY), "every event type declares its payload"
    assert {"pledge.made", "donation.received", "disbursement.made", "claim.filed", "entry.reversed",
            "award.decided", "ledger.created", "ledger.checkpoint_key_rotated"} <= set(DECLARED)


@pytest.mark.parametrize("name", DECLARED)
def test_a_declared_type_checks_exactly_the_fields_it_declares(name):
    declared = REGISTRY[name].payload_type
    assert dataclasses.is_dataclass(declared) and declared.__dataclass_params__.frozen
    assert hasattr(declared, "__slots__")
    required, optional = specs_of(declared)
    assert set(required) | set(optional or {}) == {member.name for member in dataclasses.fields(declared)}


def test_a_payload_decodes_once_into_a_frozen_value_with_its_nested_objects():
    entry = LogEntry(7, "2025-02-05T00:00:00Z", {"type": "disbursement.made", "payload": DISBURSEMENT}, "",
                     None, b"")
    REGISTRY["disbursement.made"].check_payload(DISBURSEMENT, "payload")
    values = entry.values
    assert values is entry.values  # decoded once, kept on the entry
    assert values == decode(DisbursementMade, DISBURSEMENT)
    assert values.sources == (Source(receipt="receipt-1", company="pt-maju", amount_rupiah=300),)
    assert values.amount_rupiah == 300 and values.to == "bpjs-jakut"
    with pytest.raises(dataclasses.FrozenInstanceError):
        values.amount_rupiah = 1


def test_an_optional_field_left_out_reads_none_and_the_check_still_names_a_bad_one():
    payload = {"programme": "p", "pledge": "pledge-1", "amount_rupiah": 10}
    REGISTRY["pledge.made"].check_payload(payload, "payload")
    value = decode(REGISTRY["pledge.made"].payload_type, payload)
    assert value.fund_type is None and value.pledged_on is None
    with pytest.raises(InvalidInput) as refused:
        REGISTRY["pledge.made"].check_payload({**payload, "fund_type": "wakaf"}, "payload")
    assert refused.value.field == "payload.fund_type"


def test_a_refund_decodes_its_funders_and_a_correction_leaves_out_what_it_does_not_change():
    refund = {"programme": "p", "worker": "ab" * 32, "month": "2025-05", "entry": 40, "amount_rupiah": 16800,
              "refunded_on": "2025-06-01", "reason_code": "death",
              "funders": [{"receipt": "receipt-1", "company": "pt-maju", "amount_rupiah": 16800}]}
    REGISTRY["premium.refunded"].check_payload(refund, "payload")
    value = decode(REGISTRY["premium.refunded"].payload_type, refund)
    assert value.funders[0].company == "pt-maju" and value.funders[0].amount_rupiah == 16800
    assert isinstance(value.funders, tuple) and value.entry == 40
    with pytest.raises(InvalidInput) as refused:
        REGISTRY["premium.refunded"].check_payload({**refund, "funders": [{"receipt": "r", "company": "pt-maju"}]},
                                                   "payload")
    assert refused.value.field == "payload.funders[0].amount_rupiah"
    update = {"programme": "p", "worker": "ab" * 32, "reason": "wrong bracket", "income_rupiah": 2_000_000}
    REGISTRY["worker.updated"].check_payload(update, "payload")
    value = decode(REGISTRY["worker.updated"].payload_type, update)
    assert value.income_rupiah == 2_000_000 and value.category is None and value.jht is None
