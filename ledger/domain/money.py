"""The programme year's money: what every money rule shares (the programme a payload names,
the receipts it draws on), and the programme's own events: opened by the city, companies
invited. The money's event types are by idea: pledges.py, receipts.py, disbursements.py."""

from __future__ import annotations

from ledger import fields
from ledger.decision import Decision
from ledger.domain.common import aggregate_uuid, dated, organisation_of_kind, rupiah
from ledger.domain.programme import Programme, ReceiptState
from ledger.domain.rates import FUND_TYPES, check_statutory
from ledger.domain.rules_schema import check_rules
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from ledger.event_types import register, typed
from ledger.payload_types import check_of, payload_type, required

COMPANY, BAZNAS, BPJS, CITY = (frozenset({kind}) for kind in ("company", "baznas", "bpjs", "city"))
fund_type = fields.one_of(*FUND_TYPES)


def programme_of(decision: Decision, entry: LogEntry) -> Programme:
    """The programme the payload names; it must have been opened."""
    programme_id = entry.payload["programme"]  # every money payload names it; typed or not
    programme = decision.get(Programme, aggregate_uuid("programme", programme_id))
    if programme is None:
        raise NotFound(f"programme {programme_id!r} was not opened", field="payload.programme")
    return programme


def own(owner: str, entry: LogEntry, what: str) -> None:
    """Only the organisation that made the state (`owner`) changes it."""
    if owner != entry.actor:
        raise RuleViolation(f"this {what} belongs to {owner}, not {entry.actor}", field=f"payload.{what}")


def receipt_of(programme: Programme, receipt_id: str, company: str, field: str = "payload.receipt") -> ReceiptState:
    """A standing receipt, from the company the payload says it came from."""
    receipt = programme.receipts.get(receipt_id)
    if receipt is None or receipt.reversed:
        raise NotFound(f"receipt {receipt_id!r} does not exist", field=field)
    if receipt.company != company:
        raise RuleViolation(f"receipt {receipt_id!r} is from {receipt.company}",
                            field=field.rsplit(".", 1)[0] + ".company")
    return receipt


@payload_type
class Source:
    """Where part of a disbursement's money comes from: a receipt of a company."""

    receipt: str = required(fields.identifier)
    company: str = required(fields.organisation_id)
    amount_rupiah: int = required(rupiah)


SOURCE = check_of(Source)


def _rules(value: object, field: str) -> object:
    check_rules(value, field)
    return value


@payload_type
class ProgrammeOpened:
    programme: str = required(fields.identifier)
    name: str = required(fields.text(200))
    year: int = required(fields.integer(2000, 2100))
    starts_on: str = required(fields.calendar_date)
    ends_on: str = required(fields.calendar_date)
    rules: dict = required(_rules)  # the rate table, read by ledger/domain/rates.py as JSON


@payload_type
class CompanyInvited:
    programme: str = required(fields.identifier)
    company: str = required(fields.organisation_id)
    invited_on: str = required(fields.calendar_date)


def _open(decision: Decision, entry: LogEntry) -> None:
    opened: ProgrammeOpened = entry.values
    if decision.get(Programme, aggregate_uuid("programme", opened.programme)) is not None:
        raise AlreadyExists(f"programme {opened.programme!r} is open already", field="payload.programme")
    if fields.calendar_date(opened.ends_on, "payload.ends_on") < fields.calendar_date(
            opened.starts_on, "payload.starts_on"):
        raise InvalidInput("must not be before starts_on", field="payload.ends_on")
    check_statutory(opened.rules, "payload.rules")
    decision.add(Programme(entry))


def _invite(decision: Decision, entry: LogEntry) -> None:
    invited: CompanyInvited = entry.values
    programme = programme_of(decision, entry)
    organisation_of_kind(decision, invited.company, "company", "payload.company")
    if invited.company in programme.invited:
        raise AlreadyExists(f"{invited.company} was invited on {programme.invited[invited.company]}",
                            field="payload.company")
    decision.record(programme, entry)


register(typed("programme.opened", CITY, ProgrammeOpened, dated(_open),
               "The city opens a programme year with its rate table and rules."))
register(typed("company.invited", CITY, CompanyInvited, dated(_invite),
               "The city invites a registered company to contribute to the programme."))
