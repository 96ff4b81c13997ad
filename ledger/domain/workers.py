"""Workers: one aggregate per person (a pseudonymous reference), with a membership per programme
year, premiums per month and death; enrolment, updates and withdrawal. The premium and refund
rules are in ledger/domain/premiums.py, the worker's snapshot in worker_snapshot.py, the
payloads of the workers' events in worker_payloads.py.

A person is covered in a month whose premium was paid, by whichever programme paid it, and
never twice for the same month. BPJS's rules for BPU members: a premium is due by the 15th of
the month it covers; at most 3 months of arrears may be paid; after more unpaid months the
membership ends and cover needs a new enrolment; death ends membership."""

from __future__ import annotations

from dataclasses import dataclass
from sys import intern
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.decision import Decision
from ledger.domain.claims_state import ClaimState, next_claim_state
from ledger.domain.common import aggregate_uuid, dated, not_before
from ledger.domain.money import BPJS, programme_of
from ledger.domain.paid_months import PaidMonth, PaidMonths, shared_amount
from ledger.domain.rates import check_bracket, month_of, previous_months
from ledger.domain.worker_payloads import PROFILE, WorkerEnrolled, WorkerUpdated, WorkerWithdrawn
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from ledger.event_types import register, typed

def worker_uuid(reference: str) -> UUID:
    """One aggregate per person: the same reference continues into next year's programme."""
    return aggregate_uuid("worker", reference)


@dataclass(slots=True)
class Membership:
    programme: str
    category: str
    kelurahan: str
    income_rupiah: int
    jht: bool
    enrolled_on: str
    member_since: str  # start of the BPJS membership, which may predate this programme
    enrolled_at: int
    enrolled_by: str
    withdrawn_on: str | None = None
    reversed: bool = False


class Worker(Aggregate):
    """One informal worker, known to the log only by a pseudonymous reference."""

    @staticmethod
    def create_id(entry: LogEntry) -> UUID:
        return worker_uuid(entry.values.worker)

    @event("Enrolled")
    def __init__(self, entry: LogEntry):
        self.reference: str = entry.values.worker
        self.memberships: dict[str, Membership] = {}
        self.paid = PaidMonths()
        self.death_claim: ClaimState | None = None  # a JKM or fatal JKK claim
        self._enrol(entry)

    def _enrol(self, entry: LogEntry) -> None:
        enrolled: WorkerEnrolled = entry.values
        programme = intern(enrolled.programme)  # strings most workers share, held once
        self.memberships[programme] = Membership(
            programme, intern(enrolled.category), intern(enrolled.kelurahan),
            shared_amount(enrolled.income_rupiah), enrolled.jht, intern(enrolled.enrolled_on),
            intern(enrolled.member_since or enrolled.enrolled_on), entry.index, intern(entry.actor))

    @event("Recorded")
    def record(self, entry: LogEntry) -> None:
        """Apply an already-checked worker event, recorded as this aggregate's event."""
        self.apply_recorded(entry)

    def apply_recorded(self, entry: LogEntry) -> None:
        """What `record` changes, without an event object (the verifier's replay)."""
        _mutate(self, entry)

    @property
    def died_on(self) -> str | None:
        """The date of death, once a death claim stands (filed and not rejected)."""
        claim = self.death_claim
        return claim.incident_on if claim is not None and claim.status != "rejected" else None

    def covered(self, month_text: str) -> bool:
        return self.paid.covered(month_text)

    def active(self, month_text: str, unpaid_limit: int, programme: str | None = None) -> bool:
        """Membership status in a month: ended after `unpaid_limit` consecutive unpaid months."""
        membership = self.membership(programme) if programme else next(iter(self.memberships.values()), None)
        if membership is None or membership.reversed or month_text < membership.enrolled_on[:7]:
            return False
        return not self.lapsed_before(month_text, membership, unpaid_limit)

    def membership(self, programme: str) -> Membership | None:
        return self.memberships.get(programme)

    def lapsed_before(self, month_text: str, membership: Membership, unpaid_limit: int) -> bool:
        """True when more than `unpaid_limit` months in a row went unpaid since the enrolment,
        just before `month_text`: the membership ended and needs a new enrolment."""
        start = membership.enrolled_on[:7]
        run = 0
        for earlier in previous_months(month_text, unpaid_limit + 1):
            if earlier < start or self.covered(earlier):
                break
            run += 1
        return run > unpaid_limit


def _enrolled(worker: Worker, entry: LogEntry) -> None:
    worker._enrol(entry)


def _updated(worker: Worker, entry: LogEntry) -> None:
    updated: WorkerUpdated = entry.values
    membership = worker.memberships[updated.programme]
    for name in PROFILE:
        value = getattr(updated, name)
        if value is not None:
            setattr(membership, name, value)


def _withdrawn(worker: Worker, entry: LogEntry) -> None:
    withdrawn: WorkerWithdrawn = entry.values
    worker.memberships[withdrawn.programme].withdrawn_on = withdrawn.withdrawn_on


def _paid(worker: Worker, entry: LogEntry) -> None:
    payload = entry.payload
    worker.paid[intern(payload["month"])] = PaidMonth(
        payload["programme"], payload["disbursement"], payload["batch"], payload["amount_rupiah"], entry.index,
        entry.actor, payload["paid_on"], entry.index - entry.envelope["sequence"])


def _refunded(worker: Worker, entry: LogEntry) -> None:
    worker.paid[entry.values.month].refunded_at = entry.index


def _premium_reversed(worker: Worker, entry: LogEntry) -> None:
    worker.paid[entry.payload["reference"]["month"]].reversed = True


def _enrolment_reversed(worker: Worker, entry: LogEntry) -> None:
    worker.memberships[entry.values.programme].reversed = True


def _claim_event(worker: Worker, entry: LogEntry) -> None:
    worker.death_claim = next_claim_state(worker.death_claim, entry)


_WORKER_MUTATORS = {
    "worker.enrolled": _enrolled, "worker.updated": _updated, "worker.withdrawn": _withdrawn,
    "premium.paid": _paid, "premium.refunded": _refunded,
    "claim.filed": _claim_event, "claim.approved": _claim_event, "claim.paid": _claim_event,
    "claim.rejected": _claim_event,
}
# What `entry.reversed` undoes on a worker, by the type it reverses (the rules: reversals.py).
_WORKER_REVERSALS = {
    "premium.paid": _premium_reversed, "worker.enrolled": _enrolment_reversed,
    "claim.approved": _claim_event, "claim.paid": _claim_event,
}


def _mutate(worker: Worker, entry: LogEntry) -> None:
    if entry.type == "entry.reversed":
        _WORKER_REVERSALS[entry.payload["reverses"]](worker, entry)
    else:
        _WORKER_MUTATORS[entry.type](worker, entry)


# ---- rules -----------------------------------------------------------------------------------

def find_worker(decision: Decision, reference: str, field: str = "payload.worker") -> Worker:
    worker = decision.get(Worker, worker_uuid(reference))
    if worker is None:
        raise NotFound("worker is not enrolled", field=field)
    return worker


def existing_worker(decision: Decision, entry: LogEntry, field: str = "payload.worker") -> Worker:
    """The worker with a standing membership in the payload's programme."""
    worker = find_worker(decision, entry.payload["worker"], field)
    membership = worker.membership(entry.payload["programme"])
    if membership is None or membership.reversed:
        others = [name for name, other in worker.memberships.items() if not other.reversed]
        where = f" (enrolled in {', '.join(others)})" if others else ""
        raise NotFound(f"worker is not enrolled in {entry.payload['programme']}{where}", field=field)
    return worker


def _enrol(decision: Decision, entry: LogEntry) -> None:
    enrolled: WorkerEnrolled = entry.values
    programme = programme_of(decision, entry)
    check_bracket(programme.rules, enrolled.income_rupiah, "payload.income_rupiah")
    if not programme.starts_on.isoformat() <= enrolled.enrolled_on <= programme.ends_on.isoformat():
        raise RuleViolation(f"outside the programme's period ({programme.starts_on} to {programme.ends_on})",
                            field="payload.enrolled_on")
    if enrolled.member_since is not None:
        if enrolled.member_since > enrolled.enrolled_on:
            raise RuleViolation("a membership cannot start after the enrolment", field="payload.member_since")
        if enrolled.member_since_reference is None:
            raise InvalidInput("an earlier membership needs the reference of its record",
                               field="payload.member_since_reference")
    elif enrolled.member_since_reference is not None:
        raise InvalidInput("goes with member_since", field="payload.member_since_reference")
    worker = decision.get(Worker, worker_uuid(enrolled.worker))
    if worker is None:
        decision.add(Worker(entry))
        return
    _check_enrol_again(worker, enrolled, programme.rules["membership"]["max_arrears_months"])
    decision.record(worker, entry)


def _check_enrol_again(worker: Worker, enrolled: WorkerEnrolled, unpaid_limit: int) -> None:
    """A person has one standing membership per programme: a new enrolment only after the
    last one was reversed, withdrawn or ended by unpaid months; never after death."""
    if worker.died_on:
        raise RuleViolation(f"the worker died on {worker.died_on}", field="payload.worker")
    current = worker.membership(enrolled.programme)
    if current is None or current.reversed:
        return
    if current.withdrawn_on and current.withdrawn_on <= enrolled.enrolled_on:
        return
    if enrolled.enrolled_on > current.enrolled_on and worker.lapsed_before(
            enrolled.enrolled_on[:7], current, unpaid_limit):
        return
    raise AlreadyExists("this NIK is enrolled already (one active membership per NIK)", field="payload.worker")


def _update(decision: Decision, entry: LogEntry) -> None:
    updated: WorkerUpdated = entry.values
    worker = existing_worker(decision, entry)
    if updated.income_rupiah is not None:
        check_bracket(programme_of(decision, entry).rules, updated.income_rupiah, "payload.income_rupiah")
    if worker.membership(updated.programme).withdrawn_on:
        raise RuleViolation("the worker was withdrawn", field="payload.worker")
    decision.record(worker, entry)


def _withdraw(decision: Decision, entry: LogEntry) -> None:
    withdrawn: WorkerWithdrawn = entry.values
    worker = existing_worker(decision, entry)
    membership = worker.membership(withdrawn.programme)
    if membership.withdrawn_on:
        raise RuleViolation(f"withdrawn already on {membership.withdrawn_on}", field="payload.worker")
    not_before(withdrawn.withdrawn_on, membership.enrolled_on, "payload.withdrawn_on", "the enrolment")
    paid_after = [month_text for month_text, paid in worker.paid.items()
                  if paid.live and paid.programme == membership.programme
                  and month_text > withdrawn.withdrawn_on[:7]]
    if paid_after:
        raise RuleViolation(f"premiums were paid for {', '.join(sorted(paid_after))}; reverse them first",
                            field="payload.withdrawn_on")
    decision.record(worker, entry)


def touches_worker(payload: dict) -> list[UUID]:
    return [worker_uuid(payload["worker"])]


register(typed("worker.enrolled", BPJS, WorkerEnrolled, dated(_enrol),
               "BPJS enrols a worker (pseudonymous reference only) in a programme.", touches_worker))
register(typed("worker.updated", BPJS, WorkerUpdated, dated(_update),
               "BPJS corrects a worker's category, kelurahan, bracket or JHT choice."))
register(typed("worker.withdrawn", BPJS, WorkerWithdrawn, dated(_withdraw), "BPJS ends a worker's membership."))

__all__ = ["Worker", "worker_uuid", "existing_worker", "find_worker", "month_of"]
