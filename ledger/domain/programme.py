"""The programme year's money: pledges, receipts, amil share, disbursements to BPJS, and the
control totals of premium batches. One aggregate per programme year, so every rupiah invariant
(no receipt overdrawn, no disbursement overspent) is checked inside one consistency boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.domain.attribution import Share, batch_quotas, ordered_sources, refund_release
from ledger.entry import LogEntry


@dataclass
class PledgeState:
    company: str
    amount_rupiah: int
    fund_type: str
    made_at: int
    received_rupiah: int = 0
    first_amount_rupiah: int = 0  # as first pledged: fulfilment is measured against it
    cancelled: bool = False
    reversed: bool = False
    amended: bool = False

    @property
    def outstanding_rupiah(self) -> int:
        if self.cancelled or self.reversed:
            return 0
        return max(self.amount_rupiah - self.received_rupiah, 0)


@dataclass
class ReceiptState:
    company: str
    amount_rupiah: int
    fund_type: str
    pledge: str | None
    received_on: str
    made_at: int
    amil_rupiah: int = 0
    drawn_rupiah: int = 0
    reversed: bool = False
    amil_entries: dict[int, int] = field(default_factory=dict)  # entry index -> amount
    recorded_by: str = ""

    @property
    def available_rupiah(self) -> int:
        """What may still be disbursed: the receipt less its amil share and earlier draws."""
        return 0 if self.reversed else self.amount_rupiah - self.amil_rupiah - self.drawn_rupiah


@dataclass
class DisbursementState:
    to: str
    amount_rupiah: int
    period: str
    made_on: str
    sources: list[tuple[str, str, int]]  # (receipt, company, amount), in attribution order
    made_at: int
    charged_by_source: list[int] = field(default_factory=list)  # premiums each source paid for
    charged_rupiah: int = 0
    acknowledged_at: int | None = None
    reversed: bool = False
    recorded_by: str = ""

    @property
    def remaining_rupiah(self) -> int:
        return 0 if self.reversed else self.amount_rupiah - self.charged_rupiah


class Programme(Aggregate):
    """A programme year and all of its money."""

    @staticmethod
    def create_id(entry: LogEntry) -> UUID:
        from ledger.domain.common import aggregate_uuid

        return aggregate_uuid("programme", entry.values.programme)

    @event("Opened")
    def __init__(self, entry: LogEntry):
        opened = entry.values
        self.programme_id: str = opened.programme
        self.name: str = opened.name
        self.year: int = opened.year
        self.starts_on: date = date.fromisoformat(opened.starts_on)
        self.ends_on: date = date.fromisoformat(opened.ends_on)
        self.rules: dict = opened.rules
        self.city: str = entry.actor
        self.pledges: dict[str, PledgeState] = {}
        self.receipts: dict[str, ReceiptState] = {}
        self.disbursements: dict[str, DisbursementState] = {}
        self.premium_batches: dict[str, str] = {}  # batch id -> disbursement
        self.batch_quotas: dict[str, tuple[Share, ...]] = {}  # batch id -> each source's part
        self.invited: dict[str, str] = {}  # company -> invited_on

    @event("Recorded")
    def record(self, entry: LogEntry) -> None:
        """Apply a money event that the handlers already checked (replay runs no rules)."""
        self.apply_recorded(entry)

    def apply_recorded(self, entry: LogEntry) -> None:
        """What `record` changes, without an event object (the verifier's replay)."""
        _MUTATORS[entry.type](self, entry)


def pledged_on(entry: LogEntry) -> str:
    """The day a pledge was made: as its payload states, else the day its entry occurred."""
    return entry.values.pledged_on or entry.envelope["occurred_at"][:10]


def _pledge_made(programme: Programme, entry: LogEntry) -> None:
    made = entry.values
    programme.pledges[made.pledge] = PledgeState(
        entry.actor, made.amount_rupiah, made.fund_type or "infak", entry.index,
        first_amount_rupiah=made.amount_rupiah)


def _pledge_amended(programme: Programme, entry: LogEntry) -> None:
    pledge = programme.pledges[entry.values.pledge]
    pledge.amount_rupiah, pledge.amended = entry.values.amount_rupiah, True


def _pledge_cancelled(programme: Programme, entry: LogEntry) -> None:
    programme.pledges[entry.values.pledge].cancelled = True


def _donation_received(programme: Programme, entry: LogEntry) -> None:
    received = entry.values
    programme.receipts[received.receipt] = ReceiptState(
        received.company, received.amount_rupiah, received.fund_type, received.pledge,
        received.received_on, entry.index, recorded_by=entry.actor)
    if received.pledge:
        programme.pledges[received.pledge].received_rupiah += received.amount_rupiah


def _amil_set_aside(programme: Programme, entry: LogEntry) -> None:
    amil = entry.values
    receipt = programme.receipts[amil.receipt]
    receipt.amil_rupiah += amil.amount_rupiah
    receipt.amil_entries[entry.index] = amil.amount_rupiah


def _disbursement_made(programme: Programme, entry: LogEntry) -> None:
    made = entry.values
    sources = ordered_sources([(source.receipt, source.company, source.amount_rupiah) for source in made.sources])
    programme.disbursements[made.disbursement] = DisbursementState(
        made.to, made.amount_rupiah, made.period, made.made_on, sources,
        entry.index, [0] * len(sources), recorded_by=entry.actor)
    for receipt, _, amount in sources:
        programme.receipts[receipt].drawn_rupiah += amount


def _disbursement_acknowledged(programme: Programme, entry: LogEntry) -> None:
    programme.disbursements[entry.values.disbursement].acknowledged_at = entry.index


def _premium_batch(programme: Programme, entry: LogEntry) -> None:
    header = entry.values
    disbursement = programme.disbursements[header.disbursement]
    quotas = batch_quotas(disbursement.sources, disbursement.charged_by_source, header.total_rupiah)
    disbursement.charged_by_source = [old + new for old, new in zip(disbursement.charged_by_source, quotas)]
    disbursement.charged_rupiah += header.total_rupiah
    programme.premium_batches[header.batch] = header.disbursement
    programme.batch_quotas[header.batch] = tuple(
        (receipt, company, quota) for (receipt, company, _), quota in zip(disbursement.sources, quotas))


def _premium_refund(programme: Programme, entry: LogEntry) -> None:
    header = entry.values
    disbursement = programme.disbursements[header.disbursement]
    released = refund_release(disbursement.charged_by_source, header.total_rupiah)
    disbursement.charged_by_source = [old - back for old, back in zip(disbursement.charged_by_source, released)]
    disbursement.charged_rupiah -= header.total_rupiah
    programme.premium_batches[header.batch] = header.disbursement


def _company_invited(programme: Programme, entry: LogEntry) -> None:
    programme.invited[entry.values.company] = entry.values.invited_on


def _pledge_reversed(programme: Programme, entry: LogEntry) -> None:
    programme.pledges[entry.values.reference.pledge].reversed = True


def _receipt_reversed(programme: Programme, entry: LogEntry) -> None:
    receipt = programme.receipts[entry.values.reference.receipt]
    receipt.reversed = True
    if receipt.pledge:
        programme.pledges[receipt.pledge].received_rupiah -= receipt.amount_rupiah


def _amil_reversed(programme: Programme, entry: LogEntry) -> None:
    receipt = programme.receipts[entry.values.reference.receipt]
    receipt.amil_rupiah -= receipt.amil_entries.pop(entry.values.entry)


def _disbursement_reversed(programme: Programme, entry: LogEntry) -> None:
    disbursement = programme.disbursements[entry.values.reference.disbursement]
    disbursement.reversed = True
    for receipt, _, amount in disbursement.sources:
        programme.receipts[receipt].drawn_rupiah -= amount


def _reversed(programme: Programme, entry: LogEntry) -> None:
    _REVERSALS[entry.values.reverses](programme, entry)


_MUTATORS = {
    "pledge.made": _pledge_made,
    "pledge.amended": _pledge_amended,
    "pledge.cancelled": _pledge_cancelled,
    "donation.received": _donation_received,
    "amil.set_aside": _amil_set_aside,
    "disbursement.made": _disbursement_made,
    "disbursement.acknowledged": _disbursement_acknowledged,
    "premium.batch": _premium_batch,
    "premium.refund": _premium_refund,
    "company.invited": _company_invited,
    "entry.reversed": _reversed,
}
# What `entry.reversed` undoes on the programme, by the type it reverses (the rules: beside each
# type's own rules, in pledges.py, receipts.py and disbursements.py).
_REVERSALS = {
    "pledge.made": _pledge_reversed,
    "donation.received": _receipt_reversed,
    "amil.set_aside": _amil_reversed,
    "disbursement.made": _disbursement_reversed,
}
