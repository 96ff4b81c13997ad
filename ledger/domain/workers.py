"""Workers: enrolment under a pseudonymous reference, premiums per month, coverage.

A worker is covered in each month whose premium is paid; membership is inactive after
`inactive_after_unpaid_months` consecutive unpaid months and resumes when payment resumes."""

from __future__ import annotations

from dataclasses import dataclass
from sys import intern
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger import fields
from ledger.decision import Decision
from ledger.domain.common import aggregate_uuid, boolean, month, reason, rupiah, spec, worker_ref
from ledger.domain.money import BPJS, programme_of
from ledger.domain.rates import CATEGORIES, check_bracket, month_of, premium_for, previous_months
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from ledger.event_types import EventType, register


def worker_uuid(reference: str, programme: str) -> UUID:
    """One membership per NIK per programme year: the same worker continues into next year's
    programme as a new membership."""
    return aggregate_uuid("worker", f"{programme}:{reference}")


@dataclass(slots=True)
class PaidMonth:  # one per worker-month: hundreds of thousands are held at once
    disbursement: str
    batch: str
    amount_rupiah: int
    index: int
    recorded_by: str
    reversed: bool = False


class Worker(Aggregate):
    """One informal worker, known to the log only by a keyed hash of the NIK."""

    @staticmethod
    def create_id(entry: LogEntry) -> UUID:
        return worker_uuid(entry.payload["worker"], entry.payload["programme"])

    @event("Enrolled")
    def __init__(self, entry: LogEntry):
        self._enrol(entry)

    def _enrol(self, entry: LogEntry) -> None:
        payload = entry.payload
        self.reference: str = payload["worker"]
        self.programme: str = payload["programme"]
        self.category: str = payload["category"]
        self.kelurahan: str = payload["kelurahan"]
        self.income_rupiah: int = payload["income_rupiah"]
        self.jht: bool = payload["jht"]
        self.enrolled_on: str = payload["enrolled_on"]
        self.enrolled_at: int = entry.index
        self.enrolled_by: str = entry.actor
        self.withdrawn_on: str | None = None
        self.reversed = False
        self.paid: dict[str, PaidMonth] = {}

    @event("Recorded")
    def record(self, entry: LogEntry) -> None:
        """Apply an already-checked worker event."""
        payload = entry.payload
        if entry.type == "worker.enrolled":  # enrolled again after a reversed enrolment
            self._enrol(entry)
        elif entry.type == "worker.updated":
            for name in ("category", "kelurahan", "income_rupiah", "jht"):
                if name in payload:
                    setattr(self, name, payload[name])
        elif entry.type == "worker.withdrawn":
            self.withdrawn_on = payload["withdrawn_on"]
        elif entry.type == "premium.paid":
            self.paid[intern(payload["month"])] = PaidMonth(  # the same few ids on every line: share them
                intern(payload["disbursement"]), intern(payload["batch"]), payload["amount_rupiah"], entry.index,
                intern(entry.actor))
        elif entry.type == "entry.reversed" and payload["reverses"] == "premium.paid":
            self.paid[payload["reference"]["month"]].reversed = True
        elif entry.type == "entry.reversed" and payload["reverses"] == "worker.enrolled":
            self.reversed = True

    def covered(self, month_text: str) -> bool:
        paid = self.paid.get(month_text)
        return paid is not None and not paid.reversed

    def paid_months_through(self, month_text: str) -> int:
        return sum(1 for key, paid in self.paid.items() if key <= month_text and not paid.reversed)

    def active(self, month_text: str, unpaid_limit: int) -> bool:
        """Membership status in a month: inactive after `unpaid_limit` consecutive unpaid months."""
        if self.reversed or month_text < self.enrolled_on[:7]:
            return False
        window = [month_text, *previous_months(month_text, unpaid_limit - 1)]
        recent = [m for m in window if m >= self.enrolled_on[:7]]
        return len(recent) < unpaid_limit or any(self.covered(m) for m in recent)


def existing_worker(decision: Decision, entry: LogEntry) -> Worker:
    worker = decision.get(Worker, worker_uuid(entry.payload["worker"], entry.payload["programme"]))
    if worker is None or worker.reversed:
        raise NotFound("worker is not enrolled", field="payload.worker")
    if worker.programme != entry.payload["programme"]:
        raise RuleViolation(f"worker is enrolled in {worker.programme}", field="payload.programme")
    return worker


def _enrol(decision: Decision, entry: LogEntry) -> None:
    programme = programme_of(decision, entry)
    check_bracket(programme.rules, entry.payload["income_rupiah"], "payload.income_rupiah")
    existing = decision.get(Worker, worker_uuid(entry.payload["worker"], entry.payload["programme"]))
    if existing is not None and not existing.reversed:
        raise AlreadyExists("this NIK is enrolled already (one active membership per NIK)",
                            field="payload.worker")
    if existing is not None:  # its enrolment was reversed: enrol it again
        existing.record(entry)
    else:
        decision.add(Worker(entry))


def _update(decision: Decision, entry: LogEntry) -> None:
    worker = existing_worker(decision, entry)
    if "income_rupiah" in entry.payload:
        check_bracket(programme_of(decision, entry).rules, entry.payload["income_rupiah"], "payload.income_rupiah")
    if worker.withdrawn_on:
        raise RuleViolation("the worker was withdrawn", field="payload.worker")
    worker.record(entry)


def _withdraw(decision: Decision, entry: LogEntry) -> None:
    worker = existing_worker(decision, entry)
    if worker.withdrawn_on:
        raise RuleViolation(f"withdrawn already on {worker.withdrawn_on}", field="payload.worker")
    if entry.payload["withdrawn_on"] < worker.enrolled_on:
        raise RuleViolation("cannot be withdrawn before enrolment", field="payload.withdrawn_on")
    paid_after = [month for month in worker.paid if worker.covered(month) and month > entry.payload["withdrawn_on"][:7]]
    if paid_after:
        raise RuleViolation(f"premiums were paid for {', '.join(sorted(paid_after))}; reverse them first",
                            field="payload.withdrawn_on")
    worker.record(entry)


def _pay(decision: Decision, entry: LogEntry) -> None:
    payload = entry.payload
    header = decision.scratch.get("premium_header")
    if header is None or header["refund"] or header["payload"]["batch"] != payload["batch"]:
        raise InvalidInput("premium lines follow their batch header in the same submission",
                           field="payload.batch")
    for name in ("programme", "disbursement", "month"):
        if payload[name] != header["payload"][name]:
            raise RuleViolation(f"differs from the batch header's {name}", field=f"payload.{name}")
    programme = programme_of(decision, entry)
    worker = existing_worker(decision, entry)
    _check_payable(worker, payload["month"])
    expected = premium_for(programme.rules, worker.income_rupiah, worker.category, payload["month"], worker.jht)
    for name in ("jkk_rupiah", "jkm_rupiah", "jht_rupiah", "amount_rupiah"):
        if payload[name] != getattr(expected, name):
            raise RuleViolation(f"must be Rp{getattr(expected, name):,} under the rate table for this "
                                "worker's bracket, category and month", field=f"payload.{name}")
    header["lines"] += 1
    header["total_rupiah"] += payload["amount_rupiah"]
    worker.record(entry)


def _check_payable(worker: Worker, month_text: str) -> None:
    if month_text < worker.enrolled_on[:7]:
        raise RuleViolation(f"the worker was enrolled on {worker.enrolled_on}", field="payload.month")
    if worker.withdrawn_on and month_text > worker.withdrawn_on[:7]:
        raise RuleViolation(f"the worker was withdrawn on {worker.withdrawn_on}", field="payload.month")
    if worker.covered(month_text):
        raise AlreadyExists(f"the premium for {month_text} was paid at entry "
                            f"{worker.paid[month_text].index}", field="payload.month")


def _income(value: object, field: str) -> object:
    return fields.integer(1, 10**9, " rupiah")(value, field)


WORKER = {"programme": fields.identifier, "worker": worker_ref}
PROFILE = {"category": fields.one_of(*CATEGORIES), "kelurahan": fields.text(100),
           "income_rupiah": _income, "jht": boolean}
def _touches(payload: dict) -> list[UUID]:
    return [worker_uuid(payload["worker"], payload["programme"])]


register(EventType("worker.enrolled", BPJS, spec({**WORKER, **PROFILE, "enrolled_on": fields.calendar_date}),
                   _enrol, "BPJS enrols a worker (pseudonymous reference only).", _touches))
register(EventType("worker.updated", BPJS, spec({**WORKER, "reason": reason}, PROFILE), _update,
                   "BPJS corrects a worker's category, kelurahan, bracket or JHT choice."))
register(EventType("worker.withdrawn", BPJS, spec({**WORKER, "withdrawn_on": fields.calendar_date,
                                                   "reason": reason}), _withdraw,
                   "BPJS ends a worker's membership."))
register(EventType("premium.paid", BPJS, spec({
    **WORKER, "batch": fields.identifier, "disbursement": fields.identifier, "month": month,
    "jkk_rupiah": fields.integer(0, 10**7), "jkm_rupiah": fields.integer(0, 10**7),
    "jht_rupiah": fields.integer(0, 10**7), "amount_rupiah": rupiah}), _pay,
    "One worker's premium for one month, a line of a premium batch.", _touches))

__all__ = ["Worker", "worker_uuid", "existing_worker", "month_of"]
