"""Event types for the programme's money, with the rules checked before anything is stored."""

from __future__ import annotations

from datetime import date

from ledger import fields
from ledger.decision import Decision
from ledger.domain.batch_work import PremiumBatchWork
from ledger.domain.common import (
    aggregate_uuid, dated, month, not_before, organisation_of_kind, reason, rupiah, spec,
)
from ledger.domain.programme import Programme
from ledger.domain.rates import FUND_TYPES, check_statutory
from ledger.domain.rules_schema import check_rules
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from ledger.event_types import EventType, register

COMPANY, BAZNAS, BPJS, CITY = (frozenset({kind}) for kind in ("company", "baznas", "bpjs", "city"))
MAX_SOURCES = 500
fund_type = fields.one_of(*FUND_TYPES)


def programme_of(decision: Decision, entry: LogEntry) -> Programme:
    """The programme the payload names; it must have been opened."""
    programme_id = entry.payload["programme"]
    programme = decision.get(Programme, aggregate_uuid("programme", programme_id))
    if programme is None:
        raise NotFound(f"programme {programme_id!r} was not opened", field="payload.programme")
    return programme


def _open(decision: Decision, entry: LogEntry) -> None:
    payload = entry.payload
    if decision.get(Programme, aggregate_uuid("programme", payload["programme"])) is not None:
        raise AlreadyExists(f"programme {payload['programme']!r} is open already", field="payload.programme")
    if fields.calendar_date(payload["ends_on"], "payload.ends_on") < fields.calendar_date(
            payload["starts_on"], "payload.starts_on"):
        raise InvalidInput("must not be before starts_on", field="payload.ends_on")
    check_statutory(payload["rules"], "payload.rules")
    decision.add(Programme(entry))


def _invite(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    organisation_of_kind(decision, entry.payload["company"], "company", "payload.company")
    if entry.payload["company"] in programme.invited:
        raise AlreadyExists(f"{entry.payload['company']} was invited on {programme.invited[entry.payload['company']]}",
                            field="payload.company")
    decision.record(programme, entry)


def _pledge(decision: Decision, entry: LogEntry, field: str = "payload.pledge"):
    programme = programme_of(decision, entry)
    pledge = programme.pledges.get(entry.payload["pledge"])
    if pledge is None or pledge.reversed:
        raise NotFound(f"pledge {entry.payload['pledge']!r} does not exist", field=field)
    return programme, pledge


def _make_pledge(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    if entry.payload["pledge"] in programme.pledges:
        raise AlreadyExists(f"pledge {entry.payload['pledge']!r} exists already", field="payload.pledge")
    decision.record(programme, entry)


def _amend_pledge(decision: Decision, entry: LogEntry) -> None:
    programme, pledge = _pledge(decision, entry)
    _own(pledge.company, entry, "pledge")
    if pledge.cancelled:
        raise RuleViolation("a cancelled pledge cannot be amended", field="payload.pledge")
    if entry.payload["previous_rupiah"] != pledge.amount_rupiah:
        raise RuleViolation(f"the pledge stands at Rp{pledge.amount_rupiah:,}", field="payload.previous_rupiah")
    if entry.payload["amount_rupiah"] < pledge.received_rupiah:
        raise RuleViolation(f"Rp{pledge.received_rupiah:,} was received already; a pledge cannot "
                            "fall below it", field="payload.amount_rupiah")
    decision.record(programme, entry)


def _cancel_pledge(decision: Decision, entry: LogEntry) -> None:
    programme, pledge = _pledge(decision, entry)
    _own(pledge.company, entry, "pledge")
    if pledge.cancelled:
        raise RuleViolation("the pledge was cancelled already", field="payload.pledge")
    if entry.payload["outstanding_rupiah"] != pledge.outstanding_rupiah:
        raise RuleViolation(f"the outstanding amount is Rp{pledge.outstanding_rupiah:,}",
                            field="payload.outstanding_rupiah")
    decision.record(programme, entry)


def _own(owner: str, entry: LogEntry, what: str) -> None:
    if owner != entry.actor:
        raise RuleViolation(f"this {what} belongs to {owner}, not {entry.actor}", field=f"payload.{what}")


def _receive(decision: Decision, entry: LogEntry) -> None:
    payload = entry.payload
    programme = programme_of(decision, entry)
    organisation_of_kind(decision, payload["company"], "company", "payload.company")
    if payload["receipt"] in programme.receipts:
        raise AlreadyExists(f"receipt {payload['receipt']!r} exists already", field="payload.receipt")
    if payload.get("pledge"):
        _, pledge = _pledge(decision, entry)
        if pledge.company != payload["company"]:
            raise RuleViolation(f"pledge belongs to {pledge.company}", field="payload.pledge")
        if pledge.cancelled:
            raise RuleViolation("the pledge was cancelled", field="payload.pledge")
        if pledge.fund_type != payload["fund_type"]:  # a pledge without fund_type is infak
            raise RuleViolation(f"the pledge is {pledge.fund_type}", field="payload.fund_type")
        if payload["amount_rupiah"] > pledge.outstanding_rupiah:
            raise RuleViolation(f"only Rp{pledge.outstanding_rupiah:,} of the pledge is outstanding; "
                                "amend the pledge first", field="payload.amount_rupiah")
    decision.record(programme, entry)


def _receipt(programme: Programme, payload: dict, field: str = "payload.receipt"):
    receipt = programme.receipts.get(payload["receipt"])
    if receipt is None or receipt.reversed:
        raise NotFound(f"receipt {payload['receipt']!r} does not exist", field=field)
    if receipt.company != payload["company"]:
        raise RuleViolation(f"receipt {payload['receipt']!r} is from {receipt.company}",
                            field=field.rsplit(".", 1)[0] + ".company")
    return receipt


def _set_aside_amil(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    receipt = _receipt(programme, entry.payload)
    amount = entry.payload["amount_rupiah"]
    cap_points = programme.rules["amil_cap_basis_points"][receipt.fund_type]
    cap = receipt.amount_rupiah * cap_points // 10_000
    if receipt.amil_rupiah + amount > cap:
        raise RuleViolation(f"amil share would exceed the cap of {cap_points / 100:g}% of "
                            f"{receipt.fund_type} (Rp{cap:,}; Rp{receipt.amil_rupiah:,} set aside "
                            "already)", field="payload.amount_rupiah")
    if amount > receipt.available_rupiah:
        raise RuleViolation(f"only Rp{receipt.available_rupiah:,} of the receipt is undisbursed",
                            field="payload.amount_rupiah")
    decision.record(programme, entry)


def _disburse(decision: Decision, entry: LogEntry) -> None:
    payload = entry.payload
    programme = programme_of(decision, entry)
    organisation_of_kind(decision, payload["to"], "bpjs", "payload.to")
    if payload["disbursement"] in programme.disbursements:
        raise AlreadyExists(f"disbursement {payload['disbursement']!r} exists already",
                            field="payload.disbursement")
    sources = payload["sources"]
    if sum(source["amount_rupiah"] for source in sources) != payload["amount_rupiah"]:
        raise RuleViolation("the sources must add up to the amount", field="payload.sources")
    seen = set()
    for position, source in enumerate(sources):
        where = f"payload.sources[{position}]"
        if source["receipt"] in seen:
            raise InvalidInput("names a receipt twice", field=f"{where}.receipt")
        seen.add(source["receipt"])
        receipt = _receipt(programme, source, f"{where}.receipt")
        not_before(payload["made_on"], receipt.received_on, "payload.made_on",
                   f"receipt {source['receipt']!r} was received")
        if source["amount_rupiah"] > receipt.available_rupiah:
            raise RuleViolation(f"receipt {source['receipt']!r} has Rp{receipt.available_rupiah:,} left "
                                "after its amil share and earlier draws", field=f"{where}.amount_rupiah")
    decision.record(programme, entry)


def _disbursement(programme: Programme, entry: LogEntry):
    disbursement = programme.disbursements.get(entry.payload["disbursement"])
    if disbursement is None or disbursement.reversed:
        raise NotFound(f"disbursement {entry.payload['disbursement']!r} does not exist",
                       field="payload.disbursement")
    if disbursement.to != entry.actor:
        raise RuleViolation(f"the disbursement was made to {disbursement.to}", field="payload.disbursement")
    return disbursement


def _acknowledge(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    disbursement = _disbursement(programme, entry)
    if disbursement.acknowledged_at is not None:
        raise AlreadyExists(f"acknowledged already at entry {disbursement.acknowledged_at}",
                            field="payload.disbursement")
    if entry.payload["amount_rupiah"] != disbursement.amount_rupiah:
        raise RuleViolation(f"the disbursement was Rp{disbursement.amount_rupiah:,}", field="payload.amount_rupiah")
    not_before(entry.payload["received_on"], disbursement.made_on, "payload.received_on", "the disbursement was made")
    decision.record(programme, entry)


def _premium_header(decision: Decision, entry: LogEntry, refund: bool) -> None:
    payload = entry.payload
    programme = programme_of(decision, entry)
    disbursement = _disbursement(programme, entry)
    if payload["batch"] in programme.premium_batches:
        raise AlreadyExists(f"premium batch {payload['batch']!r} exists already", field="payload.batch")
    if entry.envelope["sequence"] != 0 or decision.premium_batch is not None:
        raise InvalidInput("a premium batch header must be the first envelope of its submission",
                           field="payload.batch")
    if not refund and payload["total_rupiah"] > disbursement.remaining_rupiah:
        raise RuleViolation(f"premiums of Rp{payload['total_rupiah']:,} exceed what is left of the "
                            f"disbursement (Rp{disbursement.remaining_rupiah:,})", field="payload.total_rupiah")
    if refund and payload["total_rupiah"] > disbursement.charged_rupiah:
        raise RuleViolation("refund exceeds the premiums charged", field="payload.total_rupiah")
    if not refund:
        _check_batch_dates(programme, disbursement, payload)
    decision.record(programme, entry)
    work = PremiumBatchWork(payload["batch"], payload["programme"], payload["disbursement"], payload.get("month"),
                            payload.get("paid_on"), refund, payload["lines"], payload["total_rupiah"])
    decision.begin_premium_batch(work)


def _check_batch_dates(programme: Programme, disbursement, payload: dict) -> None:
    """Premium months inside the programme's period; paid once the money was disbursed."""
    if not programme.starts_on.isoformat()[:7] <= payload["month"] <= programme.ends_on.isoformat()[:7]:
        raise RuleViolation(f"outside the programme's period ({programme.starts_on} to {programme.ends_on})",
                            field="payload.month")
    not_before(payload["paid_on"], disbursement.made_on, "payload.paid_on", "the disbursement was made")


def _check_date(payload: dict, name: str) -> date:
    return fields.calendar_date(payload[name], f"payload.{name}")


SOURCE = spec({"receipt": fields.identifier, "company": fields.organisation_id, "amount_rupiah": rupiah})


def _sources(value: object, field: str) -> object:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_SOURCES:
        raise InvalidInput(f"must be a list of 1..{MAX_SOURCES} sources", field=field)
    for position, source in enumerate(value):
        if not isinstance(source, dict):
            raise InvalidInput("must be an object", field=f"{field}[{position}]")
        SOURCE(source, f"{field}[{position}]")
    return value


def _rules(value: object, field: str) -> object:
    check_rules(value, field)
    return value


P = {"programme": fields.identifier}
register(EventType("programme.opened", CITY, spec({
    **P, "name": fields.text(200), "year": fields.integer(2000, 2100),
    "starts_on": fields.calendar_date, "ends_on": fields.calendar_date, "rules": _rules}), dated(_open),
    "The city opens a programme year with its rate table and rules."))
register(EventType("pledge.made", COMPANY, spec({
    **P, "pledge": fields.identifier, "amount_rupiah": rupiah}, {
    "fund_type": fund_type, "pledged_on": fields.calendar_date}), dated(_make_pledge),
    "A company promises an amount (fund_type defaults to infak)."))
register(EventType("pledge.amended", COMPANY, spec({
    **P, "pledge": fields.identifier, "amount_rupiah": rupiah, "previous_rupiah": rupiah,
    "reason": reason}), dated(_amend_pledge), "A company changes its pledge's amount."))
register(EventType("pledge.cancelled", COMPANY, spec({
    **P, "pledge": fields.identifier, "outstanding_rupiah": fields.integer(0, 10**12),
    "reason": reason}), dated(_cancel_pledge), "A company withdraws what it has not yet paid."))
register(EventType("donation.received", BAZNAS, spec({
    **P, "receipt": fields.identifier, "company": fields.organisation_id, "amount_rupiah": rupiah,
    "fund_type": fund_type, "received_on": fields.calendar_date}, {"pledge": fields.identifier}),
    dated(_receive), "Baznas receives money from a company: the receipt."))
register(EventType("amil.set_aside", BAZNAS, spec({
    **P, "receipt": fields.identifier, "company": fields.organisation_id, "amount_rupiah": rupiah}),
    dated(_set_aside_amil), "Baznas keeps its amil share of a receipt, within the cap."))
register(EventType("disbursement.made", BAZNAS, spec({
    **P, "disbursement": fields.identifier, "to": fields.organisation_id, "amount_rupiah": rupiah,
    "period": month, "made_on": fields.calendar_date, "sources": _sources}), dated(_disburse),
    "Baznas pays BPJS for premiums, naming the receipts the money comes from."))
register(EventType("disbursement.acknowledged", BPJS, spec({
    **P, "disbursement": fields.identifier, "amount_rupiah": rupiah, "received_on": fields.calendar_date}),
    dated(_acknowledge), "BPJS co-signs that the disbursement arrived."))
register(EventType("premium.batch", BPJS, spec({
    **P, "batch": fields.identifier, "disbursement": fields.identifier, "month": month,
    "lines": fields.integer(1, 20_000), "total_rupiah": rupiah, "paid_on": fields.calendar_date}),
    dated(lambda decision, entry: _premium_header(decision, entry, refund=False)),
    "Header of a premium batch: its disbursement and control totals."))
register(EventType("premium.refund", BPJS, spec({
    **P, "batch": fields.identifier, "disbursement": fields.identifier,
    "lines": fields.integer(1, 20_000), "total_rupiah": rupiah}),
    dated(lambda decision, entry: _premium_header(decision, entry, refund=True)),
    "Header of a batch of premium reversals: the money returns to the disbursement."))
register(EventType("company.invited", CITY, spec({
    **P, "company": fields.organisation_id, "invited_on": fields.calendar_date}), dated(_invite),
    "The city invites a registered company to contribute to the programme."))
