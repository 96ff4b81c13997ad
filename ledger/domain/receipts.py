"""Receipts: Baznas receives a company's money (against its pledge or not) and sets its amil
share aside within the cap; either may be reversed by Baznas while nothing depends on it."""

from __future__ import annotations

from ledger import fields
from ledger.decision import Decision
from ledger.domain.common import dated, organisation_of_kind, rupiah
from ledger.domain.money import BAZNAS, fund_type, programme_of, receipt_of
from ledger.domain.pledges import standing_pledge
from ledger.domain.reversals import exists, reversal_rule, same_author
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, RuleViolation
from ledger.event_types import register, typed
from ledger.payload_types import optional, payload_type, required


@payload_type
class DonationReceived:
    programme: str = required(fields.identifier)
    receipt: str = required(fields.identifier)
    company: str = required(fields.organisation_id)
    amount_rupiah: int = required(rupiah)
    fund_type: str = required(fund_type)
    received_on: str = required(fields.calendar_date)
    pledge: str | None = optional(fields.identifier)


@payload_type
class AmilSetAside:
    programme: str = required(fields.identifier)
    receipt: str = required(fields.identifier)
    company: str = required(fields.organisation_id)
    amount_rupiah: int = required(rupiah)


@payload_type
class ReceiptReference:
    receipt: str = required(fields.identifier)


def _receive(decision: Decision, entry: LogEntry) -> None:
    received: DonationReceived = entry.values
    programme = programme_of(decision, entry)
    organisation_of_kind(decision, received.company, "company", "payload.company")
    if received.receipt in programme.receipts:
        raise AlreadyExists(f"receipt {received.receipt!r} exists already", field="payload.receipt")
    if received.pledge:
        _, pledge = standing_pledge(decision, entry, received.pledge)
        if pledge.company != received.company:
            raise RuleViolation(f"pledge belongs to {pledge.company}", field="payload.pledge")
        if pledge.cancelled:
            raise RuleViolation("the pledge was cancelled", field="payload.pledge")
        if pledge.fund_type != received.fund_type:  # a pledge without fund_type is infak
            raise RuleViolation(f"the pledge is {pledge.fund_type}", field="payload.fund_type")
        if received.amount_rupiah > pledge.outstanding_rupiah:
            raise RuleViolation(f"only Rp{pledge.outstanding_rupiah:,} of the pledge is outstanding; "
                                "amend the pledge first", field="payload.amount_rupiah")
    decision.record(programme, entry)


def _set_aside_amil(decision: Decision, entry: LogEntry) -> None:
    amil: AmilSetAside = entry.values
    programme = programme_of(decision, entry)
    receipt = receipt_of(programme, amil.receipt, amil.company)
    cap_points = programme.rules["amil_cap_basis_points"][receipt.fund_type]
    cap = receipt.amount_rupiah * cap_points // 10_000
    if receipt.amil_rupiah + amil.amount_rupiah > cap:
        raise RuleViolation(f"amil share would exceed the cap of {cap_points / 100:g}% of "
                            f"{receipt.fund_type} (Rp{cap:,}; Rp{receipt.amil_rupiah:,} set aside "
                            "already)", field="payload.amount_rupiah")
    if amil.amount_rupiah > receipt.available_rupiah:
        raise RuleViolation(f"only Rp{receipt.available_rupiah:,} of the receipt is undisbursed",
                            field="payload.amount_rupiah")
    decision.record(programme, entry)


@reversal_rule("donation.received", ReceiptReference, "baznas")
def _reverse_receipt(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    receipt = programme.receipts.get(entry.values.reference.receipt)
    exists(receipt, "receipt")
    same_author(receipt.made_at, receipt.recorded_by, entry)
    if receipt.drawn_rupiah or receipt.amil_rupiah:
        raise RuleViolation("the receipt was disbursed or had amil set aside; reverse those first",
                            field="payload.entry")
    if receipt.pledge and programme.pledges[receipt.pledge].cancelled:
        raise RuleViolation("the receipt's pledge was cancelled since; its books would not balance",
                            field="payload.entry")
    decision.record(programme, entry)


@reversal_rule("amil.set_aside", ReceiptReference, "baznas")
def _reverse_amil(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    receipt = programme.receipts.get(entry.values.reference.receipt)
    exists(receipt, "receipt")
    if entry.values.entry not in receipt.amil_entries or receipt.recorded_by != entry.actor:
        raise RuleViolation("that entry is not an amil share of this receipt by you", field="payload.entry")
    decision.record(programme, entry)


register(typed("donation.received", BAZNAS, DonationReceived, dated(_receive),
               "Baznas receives money from a company: the receipt."))
register(typed("amil.set_aside", BAZNAS, AmilSetAside, dated(_set_aside_amil),
               "Baznas keeps its amil share of a receipt, within the cap."))
