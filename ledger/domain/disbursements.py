"""Disbursements: Baznas pays BPJS from named receipts, BPJS acknowledges the money, and BPJS
charges premium batches to it (or refunds them); Baznas may reverse a disbursement nothing was
charged to. The premium lines themselves are in premiums.py."""

from __future__ import annotations

from ledger import fields
from ledger.decision import Decision
from ledger.domain.batch_work import PremiumBatchWork
from ledger.domain.common import dated, month, not_before, organisation_of_kind, rupiah
from ledger.domain.money import BAZNAS, BPJS, SOURCE, Source, programme_of, receipt_of
from ledger.domain.programme import DisbursementState, Programme
from ledger.domain.reversals import exists, reversal_rule, same_author
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from ledger.event_types import register, typed
from ledger.payload_types import items, payload_type, required

MAX_SOURCES = 500


def _sources(value: object, field: str) -> object:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_SOURCES:
        raise InvalidInput(f"must be a list of 1..{MAX_SOURCES} sources", field=field)
    for position, source in enumerate(value):
        if not isinstance(source, dict):
            raise InvalidInput("must be an object", field=f"{field}[{position}]")
        SOURCE(source, f"{field}[{position}]")
    return value


@payload_type
class DisbursementMade:
    programme: str = required(fields.identifier)
    disbursement: str = required(fields.identifier)
    to: str = required(fields.organisation_id)
    amount_rupiah: int = required(rupiah)
    period: str = required(month)
    made_on: str = required(fields.calendar_date)
    sources: tuple[Source, ...] = required(_sources, items(Source))


@payload_type
class DisbursementAcknowledged:
    programme: str = required(fields.identifier)
    disbursement: str = required(fields.identifier)
    amount_rupiah: int = required(rupiah)
    received_on: str = required(fields.calendar_date)


@payload_type
class PremiumBatch:
    """The header of a premium batch (the lines follow it in the same submission)."""

    programme: str = required(fields.identifier)
    batch: str = required(fields.identifier)
    disbursement: str = required(fields.identifier)
    month: str = required(month)
    lines: int = required(fields.integer(1, 20_000))
    total_rupiah: int = required(rupiah)
    paid_on: str = required(fields.calendar_date)


@payload_type
class PremiumRefund:
    """The header of a batch of premium reversals."""

    programme: str = required(fields.identifier)
    batch: str = required(fields.identifier)
    disbursement: str = required(fields.identifier)
    lines: int = required(fields.integer(1, 20_000))
    total_rupiah: int = required(rupiah)


@payload_type
class DisbursementReference:
    disbursement: str = required(fields.identifier)


def _disburse(decision: Decision, entry: LogEntry) -> None:
    made: DisbursementMade = entry.values
    programme = programme_of(decision, entry)
    organisation_of_kind(decision, made.to, "bpjs", "payload.to")
    if made.disbursement in programme.disbursements:
        raise AlreadyExists(f"disbursement {made.disbursement!r} exists already", field="payload.disbursement")
    if sum(source.amount_rupiah for source in made.sources) != made.amount_rupiah:
        raise RuleViolation("the sources must add up to the amount", field="payload.sources")
    seen = set()
    for position, source in enumerate(made.sources):
        where = f"payload.sources[{position}]"
        if source.receipt in seen:
            raise InvalidInput("names a receipt twice", field=f"{where}.receipt")
        seen.add(source.receipt)
        receipt = receipt_of(programme, source.receipt, source.company, f"{where}.receipt")
        not_before(made.made_on, receipt.received_on, "payload.made_on", f"receipt {source.receipt!r} was received")
        if source.amount_rupiah > receipt.available_rupiah:
            raise RuleViolation(f"receipt {source.receipt!r} has Rp{receipt.available_rupiah:,} left "
                                "after its amil share and earlier draws", field=f"{where}.amount_rupiah")
    decision.record(programme, entry)


def _disbursement(programme: Programme, entry: LogEntry, disbursement_id: str) -> DisbursementState:
    """A standing disbursement made to the entry's actor."""
    disbursement = programme.disbursements.get(disbursement_id)
    if disbursement is None or disbursement.reversed:
        raise NotFound(f"disbursement {disbursement_id!r} does not exist", field="payload.disbursement")
    if disbursement.to != entry.actor:
        raise RuleViolation(f"the disbursement was made to {disbursement.to}", field="payload.disbursement")
    return disbursement


def _acknowledge(decision: Decision, entry: LogEntry) -> None:
    acknowledged: DisbursementAcknowledged = entry.values
    programme = programme_of(decision, entry)
    disbursement = _disbursement(programme, entry, acknowledged.disbursement)
    if disbursement.acknowledged_at is not None:
        raise AlreadyExists(f"acknowledged already at entry {disbursement.acknowledged_at}",
                            field="payload.disbursement")
    if acknowledged.amount_rupiah != disbursement.amount_rupiah:
        raise RuleViolation(f"the disbursement was Rp{disbursement.amount_rupiah:,}", field="payload.amount_rupiah")
    not_before(acknowledged.received_on, disbursement.made_on, "payload.received_on", "the disbursement was made")
    decision.record(programme, entry)


def _premium_header(decision: Decision, entry: LogEntry) -> None:
    header: PremiumBatch | PremiumRefund = entry.values
    refund = isinstance(header, PremiumRefund)
    programme = programme_of(decision, entry)
    disbursement = _disbursement(programme, entry, header.disbursement)
    if header.batch in programme.premium_batches:
        raise AlreadyExists(f"premium batch {header.batch!r} exists already", field="payload.batch")
    if entry.envelope["sequence"] != 0 or decision.premium_batch is not None:
        raise InvalidInput("a premium batch header must be the first envelope of its submission",
                           field="payload.batch")
    if not refund and header.total_rupiah > disbursement.remaining_rupiah:
        raise RuleViolation(f"premiums of Rp{header.total_rupiah:,} exceed what is left of the "
                            f"disbursement (Rp{disbursement.remaining_rupiah:,})", field="payload.total_rupiah")
    if refund and header.total_rupiah > disbursement.charged_rupiah:
        raise RuleViolation("refund exceeds the premiums charged", field="payload.total_rupiah")
    if not refund:
        _check_batch_dates(programme, disbursement, header)
    decision.record(programme, entry)
    month, paid_on = (None, None) if refund else (header.month, header.paid_on)
    decision.begin_premium_batch(PremiumBatchWork(header.batch, header.programme, header.disbursement, month,
                                                  paid_on, refund, header.lines, header.total_rupiah))


def _check_batch_dates(programme: Programme, disbursement: DisbursementState, header: PremiumBatch) -> None:
    """Premium months inside the programme's period; paid once the money was disbursed."""
    if not programme.starts_on.isoformat()[:7] <= header.month <= programme.ends_on.isoformat()[:7]:
        raise RuleViolation(f"outside the programme's period ({programme.starts_on} to {programme.ends_on})",
                            field="payload.month")
    not_before(header.paid_on, disbursement.made_on, "payload.paid_on", "the disbursement was made")


@reversal_rule("disbursement.made", DisbursementReference, "baznas")
def _reverse_disbursement(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    disbursement = programme.disbursements.get(entry.values.reference.disbursement)
    exists(disbursement, "disbursement")
    same_author(disbursement.made_at, disbursement.recorded_by, entry)
    if disbursement.charged_rupiah:
        raise RuleViolation("premiums were charged to this disbursement; refund them first",
                            field="payload.entry")
    decision.record(programme, entry)


register(typed("disbursement.made", BAZNAS, DisbursementMade, dated(_disburse),
               "Baznas pays BPJS for premiums, naming the receipts the money comes from."))
register(typed("disbursement.acknowledged", BPJS, DisbursementAcknowledged, dated(_acknowledge),
               "BPJS co-signs that the disbursement arrived."))
register(typed("premium.batch", BPJS, PremiumBatch, dated(_premium_header),
               "Header of a premium batch: its disbursement and control totals."))
register(typed("premium.refund", BPJS, PremiumRefund, dated(_premium_header),
               "Header of a batch of premium reversals: the money returns to the disbursement."))
