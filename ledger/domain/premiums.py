"""Premiums: one worker's premium for one month as a line of a premium batch, and the refund of
a premium paid for a month after the worker's death to the companies whose money paid it."""

from __future__ import annotations

from ledger import fields
from ledger.decision import Decision
from ledger.domain.attribution import Share, line_funders
from ledger.domain.batch_work import PREMIUM_FIELDS, lines_of
from ledger.domain.common import dated, month, not_before, rupiah, spec
from ledger.domain.money import BPJS, programme_of
from ledger.domain.rates import months_between
from ledger.domain.workers import FUNDER, WORKER, Membership, PaidMonth, Worker, existing_worker, touches_worker
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from ledger.event_types import EventType, register


def _pay(decision: Decision, entry: LogEntry) -> None:
    payload = entry.payload
    work = lines_of(decision.premium_batch, payload["batch"], False,
                    "premium lines follow their batch header in the same submission", "payload.batch")
    # What every line repeats from its header is compared in one go, and the programme looked
    # up once per batch: the same object for every line of the submission's decision.
    if (payload["programme"], payload["disbursement"], payload["month"], payload["paid_on"]) != work.shared:
        for name in ("programme", "disbursement", "month", "paid_on"):
            if payload[name] != getattr(work, name):
                raise RuleViolation(f"differs from the batch header's {name}", field=f"payload.{name}")
    programme = work.programme_state
    if programme is None:
        programme = work.programme_state = programme_of(decision, entry)
    worker = existing_worker(decision, entry)
    membership = worker.membership(payload["programme"])
    check_payable(worker, membership, payload["month"], payload["paid_on"], programme.rules)
    expected, amounts = work.premium(programme.rules, membership.income_rupiah, membership.category, membership.jht)
    if (payload["jkk_rupiah"], payload["jkm_rupiah"], payload["jht_rupiah"], payload["amount_rupiah"]) != amounts:
        for name in PREMIUM_FIELDS:
            if payload[name] != getattr(expected, name):
                raise RuleViolation(f"must be Rp{getattr(expected, name):,} under the rate table for this "
                                    "worker's bracket, category and month", field=f"payload.{name}")
    work.add_line(payload["amount_rupiah"], "payload.amount_rupiah")
    decision.record(worker, entry)


def check_payable(worker: Worker, membership: Membership, month_text: str, paid_on: str, rules: dict) -> None:
    """May this month's premium be paid on `paid_on` for this membership?"""
    if paid_on < membership.enrolled_on:
        raise RuleViolation(f"paid before the worker was enrolled ({membership.enrolled_on})", field="payload.month")
    if month_text < membership.enrolled_on[:7]:
        raise RuleViolation(f"the worker was enrolled on {membership.enrolled_on}", field="payload.month")
    if membership.withdrawn_on and month_text > membership.withdrawn_on[:7]:
        raise RuleViolation(f"the worker was withdrawn on {membership.withdrawn_on}", field="payload.month")
    if worker.died_on and month_text > worker.died_on[:7]:
        raise RuleViolation(f"the worker died on {worker.died_on}: death ends membership", field="payload.month")
    if worker.covered(month_text):
        paid = worker.paid[month_text]
        raise AlreadyExists(f"the premium for {month_text} was paid at entry {paid.index}"
                            f"{'' if paid.programme == membership.programme else ' by ' + paid.programme}",
                            field="payload.month")
    limit = rules["membership"]["max_arrears_months"]
    behind = months_between(month_text, paid_on[:7])
    if behind > limit:
        raise RuleViolation(f"{behind} months in arrears on {paid_on}: at most {limit} months of arrears may be "
                            "paid", field="payload.month")
    if worker.lapsed_before(month_text, membership, limit):
        raise RuleViolation(f"the membership ended after more than {limit} unpaid months before {month_text}; "
                            "enrol the worker again", field="payload.month")


def _refund(decision: Decision, entry: LogEntry) -> None:
    """A premium paid for a month after the worker's death goes back to the restricted fund of
    the companies whose money paid it."""
    payload = entry.payload
    worker = existing_worker(decision, entry)
    paid = worker.paid.get(payload["month"])
    if paid is None or not paid.live or paid.programme != payload["programme"]:
        raise NotFound(f"no standing premium for {payload['month']} in this programme", field="payload.month")
    if not worker.died_on or payload["month"] <= worker.died_on[:7]:
        raise RuleViolation("only premiums for months after the worker's death are refunded",
                            field="payload.month")
    not_before(payload["refunded_on"], worker.died_on, "payload.refunded_on", "the death")
    if payload["entry"] != paid.index:
        raise RuleViolation(f"the premium for {payload['month']} is entry {paid.index}", field="payload.entry")
    if payload["amount_rupiah"] != paid.amount_rupiah:
        raise RuleViolation(f"the premium was Rp{paid.amount_rupiah:,}", field="payload.amount_rupiah")
    funders = funders_of(decision, programme_of(decision, entry), paid)
    named = [(item["receipt"], item["company"], item["amount_rupiah"]) for item in payload["funders"]]
    if named != list(funders):
        expected = ", ".join(f"{company} Rp{amount:,} from {receipt}" for receipt, company, amount in funders)
        raise RuleViolation(f"the premium was funded by {expected}", field="payload.funders")
    decision.record(worker, entry)


def funders_of(decision: Decision, programme, paid: PaidMonth) -> tuple[Share, ...]:
    """Who paid a premium line: its batch's quotas, consumed by the lines before it in order."""
    amounts = decision.premium_amounts(paid.header_index + 1, paid.index + 1)
    return line_funders(programme.batch_quotas[paid.batch], amounts)


def _funders(value: object, field: str) -> object:
    if not isinstance(value, list) or not 1 <= len(value) <= 500:
        raise InvalidInput("must be a list of 1..500 funders", field=field)
    for position, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidInput("must be an object", field=f"{field}[{position}]")
        FUNDER(item, f"{field}[{position}]")
    return value




register(EventType("premium.paid", BPJS, spec({
    **WORKER, "batch": fields.identifier, "disbursement": fields.identifier, "month": month,
    "jkk_rupiah": fields.integer(0, 10**7), "jkm_rupiah": fields.integer(0, 10**7),
    "jht_rupiah": fields.integer(0, 10**7), "amount_rupiah": rupiah, "paid_on": fields.calendar_date}), _pay,
    "One worker's premium for one month, a line of a premium batch.", touches_worker))
register(EventType("premium.refunded", BPJS, spec({
    **WORKER, "month": month, "entry": fields.integer(0, 2**48), "amount_rupiah": rupiah,
    "refunded_on": fields.calendar_date, "reason_code": fields.one_of("death"), "funders": _funders}),
    dated(_refund), "BPJS refunds a premium paid for a month after the worker's death to the "
    "companies whose money paid it."))
