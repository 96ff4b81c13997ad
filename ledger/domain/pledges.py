"""Pledges: a company promises an amount, may amend or cancel what it has not yet paid, and may
reverse a pledge made in error while nothing was received against it."""

from __future__ import annotations

from ledger import fields
from ledger.decision import Decision
from ledger.domain.common import dated, reason, rupiah
from ledger.domain.money import COMPANY, fund_type, own, programme_of
from ledger.domain.programme import PledgeState, Programme
from ledger.domain.reversals import exists, reversal_rule, same_author
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, NotFound, RuleViolation
from ledger.event_types import register, typed
from ledger.payload_types import optional, payload_type, required


@payload_type
class PledgeMade:
    programme: str = required(fields.identifier)
    pledge: str = required(fields.identifier)
    amount_rupiah: int = required(rupiah)
    fund_type: str | None = optional(fund_type)  # infak when left out
    pledged_on: str | None = optional(fields.calendar_date)  # the day of the entry when left out


@payload_type
class PledgeAmended:
    programme: str = required(fields.identifier)
    pledge: str = required(fields.identifier)
    amount_rupiah: int = required(rupiah)
    previous_rupiah: int = required(rupiah)
    reason: str = required(reason)


@payload_type
class PledgeCancelled:
    programme: str = required(fields.identifier)
    pledge: str = required(fields.identifier)
    outstanding_rupiah: int = required(fields.integer(0, 10**12))
    reason: str = required(reason)


@payload_type
class PledgeReference:
    pledge: str = required(fields.identifier)


def standing_pledge(decision: Decision, entry: LogEntry, pledge_id: str,
                    field: str = "payload.pledge") -> tuple[Programme, PledgeState]:
    """(the programme, a pledge of it that stands)."""
    programme = programme_of(decision, entry)
    pledge = programme.pledges.get(pledge_id)
    if pledge is None or pledge.reversed:
        raise NotFound(f"pledge {pledge_id!r} does not exist", field=field)
    return programme, pledge


def _make_pledge(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    if entry.values.pledge in programme.pledges:
        raise AlreadyExists(f"pledge {entry.values.pledge!r} exists already", field="payload.pledge")
    decision.record(programme, entry)


def _amend_pledge(decision: Decision, entry: LogEntry) -> None:
    amended: PledgeAmended = entry.values
    programme, pledge = standing_pledge(decision, entry, amended.pledge)
    own(pledge.company, entry, "pledge")
    if pledge.cancelled:
        raise RuleViolation("a cancelled pledge cannot be amended", field="payload.pledge")
    if amended.previous_rupiah != pledge.amount_rupiah:
        raise RuleViolation(f"the pledge stands at Rp{pledge.amount_rupiah:,}", field="payload.previous_rupiah")
    if amended.amount_rupiah < pledge.received_rupiah:
        raise RuleViolation(f"Rp{pledge.received_rupiah:,} was received already; a pledge cannot "
                            "fall below it", field="payload.amount_rupiah")
    decision.record(programme, entry)


def _cancel_pledge(decision: Decision, entry: LogEntry) -> None:
    cancelled: PledgeCancelled = entry.values
    programme, pledge = standing_pledge(decision, entry, cancelled.pledge)
    own(pledge.company, entry, "pledge")
    if pledge.cancelled:
        raise RuleViolation("the pledge was cancelled already", field="payload.pledge")
    if cancelled.outstanding_rupiah != pledge.outstanding_rupiah:
        raise RuleViolation(f"the outstanding amount is Rp{pledge.outstanding_rupiah:,}",
                            field="payload.outstanding_rupiah")
    decision.record(programme, entry)


@reversal_rule("pledge.made", PledgeReference, "company")
def _reverse_pledge(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    pledge = programme.pledges.get(entry.values.reference.pledge)
    exists(pledge, "pledge")
    same_author(pledge.made_at, pledge.company, entry)
    if pledge.received_rupiah:
        raise RuleViolation("money was received against this pledge; reverse the receipts first",
                            field="payload.entry")
    if pledge.cancelled or pledge.amended:
        raise RuleViolation("the pledge was amended or cancelled since; correct it with pledge.amended",
                            field="payload.entry")
    decision.record(programme, entry)


register(typed("pledge.made", COMPANY, PledgeMade, dated(_make_pledge),
               "A company promises an amount (fund_type defaults to infak)."))
register(typed("pledge.amended", COMPANY, PledgeAmended, dated(_amend_pledge),
               "A company changes its pledge's amount."))
register(typed("pledge.cancelled", COMPANY, PledgeCancelled, dated(_cancel_pledge),
               "A company withdraws what it has not yet paid."))
