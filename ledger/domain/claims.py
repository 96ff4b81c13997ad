"""Claims for JKM (death) and JKK (work accident): filed, approved, paid or rejected.

Claims are paid from BPJS's insurance fund, not from the CSR money; they are the impact that
the money bought. A claim needs cover bought before the incident: the incident month's
premium paid on or before the incident date. A death (JKM, or JKK with `fatal`) is recorded
on the worker, so one death pays one benefit; a JKK injury claim is an aggregate of its own."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger import fields
from ledger.decision import Decision
from ledger.domain.claims_state import ClaimState, is_fatal, next_claim_state
from ledger.domain.common import aggregate_uuid, boolean, dated, not_before, reason, rupiah, worker_ref
from ledger.domain.money import BPJS, programme_of
from ledger.domain.rates import add_working_days, jkm_benefit
from ledger.domain.reversals import reversal_rule, same_author
from ledger.domain.workers import Worker, existing_worker, find_worker
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from ledger.event_types import register, typed
from ledger.payload_types import optional, payload_type, required

BENEFITS = ("jkm", "jkk")


@payload_type
class ClaimFiled:
    programme: str = required(fields.identifier)
    claim: str = required(fields.identifier)
    worker: str = required(worker_ref)
    benefit: str = required(fields.one_of(*BENEFITS))
    incident_on: str = required(fields.calendar_date)
    filed_on: str = required(fields.calendar_date)
    fatal: bool | None = optional(boolean)  # a JKK claim's death; None when left out


@payload_type
class ClaimApproved:
    programme: str = required(fields.identifier)
    claim: str = required(fields.identifier)
    worker: str = required(worker_ref)
    benefit: str = required(fields.one_of(*BENEFITS))
    amount_rupiah: int = required(rupiah)
    approved_on: str = required(fields.calendar_date)
    complete_on: str = required(fields.calendar_date)
    deadline_on: str = required(fields.calendar_date)


@payload_type
class ClaimPaid:
    programme: str = required(fields.identifier)
    claim: str = required(fields.identifier)
    worker: str = required(worker_ref)
    benefit: str = required(fields.one_of(*BENEFITS))
    amount_rupiah: int = required(rupiah)
    paid_on: str = required(fields.calendar_date)


@payload_type
class ClaimRejected:
    programme: str = required(fields.identifier)
    claim: str = required(fields.identifier)
    worker: str = required(worker_ref)
    benefit: str = required(fields.one_of(*BENEFITS))
    reason: str = required(reason)
    rejected_on: str = required(fields.calendar_date)


@payload_type
class ClaimReference:
    benefit: str = required(fields.one_of(*BENEFITS))
    claim: str = required(fields.identifier)
    worker: str = required(worker_ref)


def claim_uuid(claim: str) -> UUID:
    """A JKK injury claim's aggregate."""
    return aggregate_uuid("claim-jkk", claim)


class Claim(Aggregate):
    """A JKK claim for an injury (a death claim lives on the worker)."""

    @staticmethod
    def create_id(entry: LogEntry) -> UUID:
        return claim_uuid(entry.values.claim)

    @event("Filed")
    def __init__(self, entry: LogEntry):
        self.state = ClaimState.filed(entry)

    @event("Recorded")
    def record(self, entry: LogEntry) -> None:
        self.apply_recorded(entry)

    def apply_recorded(self, entry: LogEntry) -> None:
        """What `record` changes, without an event object (the verifier's replay)."""
        self.state = next_claim_state(self.state, entry)


def find_claim(decision: Decision, named, programme: str, field: str = "payload.claim") -> tuple[object, ClaimState]:
    """(the aggregate that records the claim `named` (its benefit, claim and worker), its
    state), checking it names the same worker and programme."""
    if named.benefit == "jkk":
        aggregate = decision.get(Claim, claim_uuid(named.claim))
        if aggregate is not None:
            return aggregate, _same_claim(aggregate.state, named.worker, programme)
    worker = decision.get(Worker, aggregate_uuid("worker", named.worker))
    state = worker.death_claim if worker is not None else None
    if state is None or state.claim_id != named.claim or state.benefit != named.benefit:
        raise NotFound(f"{named.benefit.upper()} claim {named.claim!r} was not filed for this worker", field=field)
    return worker, _same_claim(state, named.worker, programme)


def _same_claim(state: ClaimState, worker: str, programme: str) -> ClaimState:
    for name, named, value in (("worker", worker, state.worker), ("programme", programme, state.programme)):
        if named != value:
            raise RuleViolation(f"the claim was filed for {name} {value[:16]}", field=f"payload.{name}")
    return state


def _in_status(decision: Decision, entry: LogEntry, status: str) -> tuple[object, ClaimState]:
    holder, claim = find_claim(decision, entry.values, entry.values.programme)
    if claim.status != status:
        raise RuleViolation(f"the claim is {claim.status}, not {status}", field="payload.claim")
    return holder, claim


def _file(decision: Decision, entry: LogEntry) -> None:
    filed: ClaimFiled = entry.values
    if filed.fatal is not None and filed.benefit != "jkk":
        raise InvalidInput("only a JKK claim says whether it is fatal; a JKM claim is always a death",
                           field="payload.fatal")
    fatal = is_fatal(filed.benefit, filed.fatal)
    worker = existing_worker(decision, entry)
    membership = worker.membership(filed.programme)
    not_before(filed.incident_on, membership.enrolled_on, "payload.incident_on", "the enrolment")
    not_before(filed.filed_on, filed.incident_on, "payload.filed_on", "the incident")
    if worker.died_on and filed.incident_on > worker.died_on:
        raise RuleViolation(f"the worker died on {worker.died_on}", field="payload.incident_on")
    if fatal and worker.died_on:
        standing = worker.death_claim
        raise AlreadyExists(f"one death, one benefit: {standing.benefit.upper()} claim {standing.claim_id!r} "
                            "stands for this death", field="payload.claim")
    _check_cover(worker, filed, programme_of(decision, entry).rules)
    if fatal:
        decision.record(worker, entry)
        return
    if decision.get(Claim, claim_uuid(filed.claim)) is not None:
        raise AlreadyExists("claim exists already", field="payload.claim")
    decision.add(Claim(entry))


def _check_cover(worker: Worker, filed: ClaimFiled, rules: dict) -> None:
    """Cover is paid before it protects: the incident month's premium, paid by this programme
    on or before the incident date (plus the rule table's grace, none by default)."""
    month = filed.incident_on[:7]
    paid = worker.paid.get(month)
    if paid is None or not paid.live or paid.programme != filed.programme:
        raise RuleViolation(f"the worker was not covered in {month} (no premium paid)", field="payload.incident_on")
    grace = timedelta(days=rules["benefits"]["claim_grace_days"])
    if date.fromisoformat(paid.paid_on) > date.fromisoformat(filed.incident_on) + grace:
        raise RuleViolation(f"the premium for {month} was paid on {paid.paid_on}, after the incident: cover is "
                            "never bought after the event", field="payload.incident_on")


def _approve(decision: Decision, entry: LogEntry) -> None:
    approved: ClaimApproved = entry.values
    holder, claim = _in_status(decision, entry, "filed")
    not_before(approved.complete_on, claim.filed_on, "payload.complete_on", "the claim was filed")
    not_before(approved.approved_on, approved.complete_on, "payload.approved_on", "the claim was complete")
    rules = programme_of(decision, entry).rules
    if claim.benefit == "jkm":
        membership = find_worker(decision, claim.worker).membership(claim.programme)
        expected = jkm_benefit(rules, membership.member_since, claim.incident_on)
        if approved.amount_rupiah != expected:
            raise RuleViolation(f"the JKM benefit for a membership since {membership.member_since} is "
                                f"Rp{expected:,}", field="payload.amount_rupiah")
    elif approved.amount_rupiah > rules["benefits"]["jkk_max_rupiah"]:
        raise RuleViolation("above the JKK bound of the rules", field="payload.amount_rupiah")
    days = rules["benefits"]["payment_deadline_working_days"][claim.benefit]
    deadline = add_working_days(date.fromisoformat(approved.complete_on), days).isoformat()
    if approved.deadline_on != deadline:
        raise RuleViolation(f"must be {deadline}: {days} working days after the complete claim",
                            field="payload.deadline_on")
    decision.record(holder, entry)


def _pay(decision: Decision, entry: LogEntry) -> None:
    paid: ClaimPaid = entry.values
    holder, claim = _in_status(decision, entry, "approved")
    if paid.amount_rupiah != claim.approved_rupiah:
        raise RuleViolation(f"the approved amount is Rp{claim.approved_rupiah:,}", field="payload.amount_rupiah")
    not_before(paid.paid_on, claim.approved_on, "payload.paid_on", "the claim was approved")
    decision.record(holder, entry)


def _reject(decision: Decision, entry: LogEntry) -> None:
    holder, claim = _in_status(decision, entry, "filed")
    not_before(entry.values.rejected_on, claim.filed_on, "payload.rejected_on", "the claim was filed")
    decision.record(holder, entry)


def _reverse_claim(decision: Decision, entry: LogEntry) -> None:
    """BPJS corrects an approval (back to filed) or a payment (back to approved)."""
    reversal = entry.values
    holder, claim = find_claim(decision, reversal.reference, reversal.programme, "payload.reference.claim")
    status, index = ("paid", claim.paid_at) if reversal.reverses == "claim.paid" else ("approved", claim.approved_at)
    if claim.status != status:
        raise RuleViolation(f"the claim is {claim.status}, not {status}", field="payload.reference.claim")
    same_author(index, claim.decided_by, entry)
    decision.record(holder, entry)


reversal_rule("claim.approved", ClaimReference, "bpjs")(_reverse_claim)
reversal_rule("claim.paid", ClaimReference, "bpjs")(_reverse_claim)
register(typed("claim.filed", BPJS, ClaimFiled, dated(_file),
               "An heir or worker files a JKM or JKK claim (JKK: fatal for a death).",
               lambda payload: [aggregate_uuid("worker", payload["worker"])]))
register(typed("claim.approved", BPJS, ClaimApproved, dated(_approve),
               "BPJS approves the benefit; the payment deadline is fixed here."))
register(typed("claim.paid", BPJS, ClaimPaid, dated(_pay), "BPJS pays the approved benefit."))
register(typed("claim.rejected", BPJS, ClaimRejected, dated(_reject), "BPJS rejects the claim, with a reason."))
