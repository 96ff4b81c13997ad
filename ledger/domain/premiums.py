"""Premiums: one worker's premium for one month as a line of a premium batch, and the refund of
a premium paid for a month after the worker's death to the companies whose money paid it."""

from __future__ import annotations

from ledger import fields
from ledger.decision import Decision
from ledger.domain.attribution import Share, line_funders
from ledger.domain.batch_work import PREMIUM_FIELDS, lines_of
from ledger.domain.common import dated, month, not_before, rupiah, worker_ref
from ledger.domain.money import BPJS, SOURCE, Source, programme_of
from ledger.domain.rates import months_between
from ledger.domain.workers import Membership, PaidMonth, Worker, existing_worker, touches_worker
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from ledger.event_types import register, typed
from ledger.payload_types import items, payload_type, required

_PART = fields.integer(0, 10**7)


@payload_type
class PremiumPaid:
    """A premium line. Its rule (`_pay`) and the worker's mutator read the checked payload dict
    itself: a batch holds thousands of lines, and decoding each into this value costs more than
    the rule's own reads (docs/benchmarks.md, "Typed payloads"). `entry.values` still gives it."""

    programme: str = required(fields.identifier)
    worker: str = required(worker_ref)
    batch: str = required(fields.identifier)
    disbursement: str = required(fields.identifier)
    month: str = required(month)
    jkk_rupiah: int = required(_PART)
    jkm_rupiah: int = required(_PART)
    jht_rupiah: int = required(_PART)
    amount_rupiah: int = required(rupiah)
    paid_on: str = required(fields.calendar_date)




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
    refund: PremiumRefunded = entry.values
    worker = existing_worker(decision, entry)
    paid = worker.paid.get(refund.month)
    if paid is None or not paid.live or paid.programme != refund.programme:
        raise NotFound(f"no standing premium for {refund.month} in this programme", field="payload.month")
    if not worker.died_on or refund.month <= worker.died_on[:7]:
        raise RuleViolation("only premiums for months after the worker's death are refunded",
                            field="payload.month")
    not_before(refund.refunded_on, worker.died_on, "payload.refunded_on", "the death")
    if refund.entry != paid.index:
        raise RuleViolation(f"the premium for {refund.month} is entry {paid.index}", field="payload.entry")
    if refund.amount_rupiah != paid.amount_rupiah:
        raise RuleViolation(f"the premium was Rp{paid.amount_rupiah:,}", field="payload.amount_rupiah")
    funders = funders_of(decision, programme_of(decision, entry), paid)
    named = [(item.receipt, item.company, item.amount_rupiah) for item in refund.funders]
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
        SOURCE(item, f"{field}[{position}]")
    return value




@payload_type
class PremiumRefunded:
    programme: str = required(fields.identifier)
    worker: str = required(worker_ref)
    month: str = required(month)
    entry: int = required(fields.integer(0, 2**48))  # the premium line's index
    amount_rupiah: int = required(rupiah)
    refunded_on: str = required(fields.calendar_date)
    reason_code: str = required(fields.one_of("death"))
    funders: tuple[Source, ...] = required(_funders, items(Source))  # each: a receipt of a company, paid back


register(typed("premium.paid", BPJS, PremiumPaid, _pay,
               "One worker's premium for one month, a line of a premium batch.", touches_worker))
register(typed("premium.refunded", BPJS, PremiumRefunded, dated(_refund),
               "BPJS refunds a premium paid for a month after the worker's death to the "
               "companies whose money paid it."))
