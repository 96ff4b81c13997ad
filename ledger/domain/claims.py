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
from ledger.domain.claims_state import ClaimState, next_claim_state
from ledger.domain.common import aggregate_uuid, boolean, dated, not_before, reason, rupiah, spec, worker_ref
from ledger.domain.money import BPJS, programme_of
from ledger.domain.rates import add_working_days, jkm_benefit
from ledger.domain.workers import Worker, existing_worker, find_worker
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from ledger.event_types import EventType, register

BENEFITS = ("jkm", "jkk")


def claim_uuid(claim: str) -> UUID:
    """A JKK injury claim's aggregate."""
    return aggregate_uuid("claim-jkk", claim)


class Claim(Aggregate):
    """A JKK claim for an injury (a death claim lives on the worker)."""

    @staticmethod
    def create_id(entry: LogEntry) -> UUID:
        return claim_uuid(entry.payload["claim"])

    @event("Filed")
    def __init__(self, entry: LogEntry):
        self.state = ClaimState.filed(entry)

    @event("Recorded")
    def record(self, entry: LogEntry) -> None:
        self.apply_recorded(entry)

    def apply_recorded(self, entry: LogEntry) -> None:
        """What `record` changes, without an event object (the verifier's replay)."""
        self.state = next_claim_state(self.state, entry)


def find_claim(decision: Decision, payload: dict, field: str = "payload.claim") -> tuple[object, ClaimState]:
    """(the aggregate that records the claim, its state), checking it names the same worker."""
    if payload["benefit"] == "jkk":
        aggregate = decision.get(Claim, claim_uuid(payload["claim"]))
        if aggregate is not None:
            return aggregate, _same_claim(aggregate.state, payload)
    worker = decision.get(Worker, aggregate_uuid("worker", payload["worker"]))
    state = worker.death_claim if worker is not None else None
    if state is None or state.claim_id != payload["claim"] or state.benefit != payload["benefit"]:
        raise NotFound(f"{payload['benefit'].upper()} claim {payload['claim']!r} was not filed for this worker",
                       field=field)
    return worker, _same_claim(state, payload)


def _same_claim(state: ClaimState, payload: dict) -> ClaimState:
    for name, value in (("worker", state.worker), ("programme", state.programme)):
        if payload[name] != value:
            raise RuleViolation(f"the claim was filed for {name} {value[:16]}", field=f"payload.{name}")
    return state


def _in_status(decision: Decision, entry: LogEntry, status: str) -> tuple[object, ClaimState]:
    holder, claim = find_claim(decision, entry.payload)
    if claim.status != status:
        raise RuleViolation(f"the claim is {claim.status}, not {status}", field="payload.claim")
    return holder, claim


def _file(decision: Decision, entry: LogEntry) -> None:
    payload = entry.payload
    if "fatal" in payload and payload["benefit"] != "jkk":
        raise InvalidInput("only a JKK claim says whether it is fatal; a JKM claim is always a death",
                           field="payload.fatal")
    fatal = payload["benefit"] == "jkm" or payload.get("fatal", False)
    worker = existing_worker(decision, entry)
    membership = worker.membership(payload["programme"])
    not_before(payload["incident_on"], membership.enrolled_on, "payload.incident_on", "the enrolment")
    not_before(payload["filed_on"], payload["incident_on"], "payload.filed_on", "the incident")
    if worker.died_on and payload["incident_on"] > worker.died_on:
        raise RuleViolation(f"the worker died on {worker.died_on}", field="payload.incident_on")
    if fatal and worker.died_on:
        standing = worker.death_claim
        raise AlreadyExists(f"one death, one benefit: {standing.benefit.upper()} claim {standing.claim_id!r} "
                            "stands for this death", field="payload.claim")
    _check_cover(worker, payload, programme_of(decision, entry).rules)
    if fatal:
        decision.record(worker, entry)
        return
    if decision.get(Claim, claim_uuid(payload["claim"])) is not None:
        raise AlreadyExists("claim exists already", field="payload.claim")
    decision.add(Claim(entry))


def _check_cover(worker: Worker, payload: dict, rules: dict) -> None:
    """Cover is paid before it protects: the incident month's premium, paid by this programme
    on or before the incident date (plus the rule table's grace, none by default)."""
    month = payload["incident_on"][:7]
    paid = worker.paid.get(month)
    if paid is None or not paid.live or paid.programme != payload["programme"]:
        raise RuleViolation(f"the worker was not covered in {month} (no premium paid)", field="payload.incident_on")
    grace = timedelta(days=rules["benefits"]["claim_grace_days"])
    if date.fromisoformat(paid.paid_on) > date.fromisoformat(payload["incident_on"]) + grace:
        raise RuleViolation(f"the premium for {month} was paid on {paid.paid_on}, after the incident: cover is "
                            "never bought after the event", field="payload.incident_on")


def _approve(decision: Decision, entry: LogEntry) -> None:
    payload = entry.payload
    holder, claim = _in_status(decision, entry, "filed")
    not_before(payload["complete_on"], claim.filed_on, "payload.complete_on", "the claim was filed")
    not_before(payload["approved_on"], payload["complete_on"], "payload.approved_on", "the claim was complete")
    rules = programme_of(decision, entry).rules
    if claim.benefit == "jkm":
        membership = find_worker(decision, claim.worker).membership(claim.programme)
        expected = jkm_benefit(rules, membership.member_since, claim.incident_on)
        if payload["amount_rupiah"] != expected:
            raise RuleViolation(f"the JKM benefit for a membership since {membership.member_since} is "
                                f"Rp{expected:,}", field="payload.amount_rupiah")
    elif payload["amount_rupiah"] > rules["benefits"]["jkk_max_rupiah"]:
        raise RuleViolation("above the JKK bound of the rules", field="payload.amount_rupiah")
    days = rules["benefits"]["payment_deadline_working_days"][claim.benefit]
    deadline = add_working_days(date.fromisoformat(payload["complete_on"]), days).isoformat()
    if payload["deadline_on"] != deadline:
        raise RuleViolation(f"must be {deadline}: {days} working days after the complete claim",
                            field="payload.deadline_on")
    decision.record(holder, entry)


def _pay(decision: Decision, entry: LogEntry) -> None:
    holder, claim = _in_status(decision, entry, "approved")
    if entry.payload["amount_rupiah"] != claim.approved_rupiah:
        raise RuleViolation(f"the approved amount is Rp{claim.approved_rupiah:,}", field="payload.amount_rupiah")
    not_before(entry.payload["paid_on"], claim.approved_on, "payload.paid_on", "the claim was approved")
    decision.record(holder, entry)


def _reject(decision: Decision, entry: LogEntry) -> None:
    holder, claim = _in_status(decision, entry, "filed")
    not_before(entry.payload["rejected_on"], claim.filed_on, "payload.rejected_on", "the claim was filed")
    decision.record(holder, entry)


CLAIM = {"programme": fields.identifier, "claim": fields.identifier, "worker": worker_ref,
         "benefit": fields.one_of(*BENEFITS)}
register(EventType("claim.filed", BPJS, spec({**CLAIM, "incident_on": fields.calendar_date,
                                              "filed_on": fields.calendar_date}, {"fatal": boolean}),
                   dated(_file), "An heir or worker files a JKM or JKK claim (JKK: fatal for a death).",
                   lambda payload: [aggregate_uuid("worker", payload["worker"])]))
register(EventType("claim.approved", BPJS, spec({**CLAIM, "amount_rupiah": rupiah,
                                                 "approved_on": fields.calendar_date,
                                                 "complete_on": fields.calendar_date,
                                                 "deadline_on": fields.calendar_date}), dated(_approve),
                   "BPJS approves the benefit; the payment deadline is fixed here."))
register(EventType("claim.paid", BPJS, spec({**CLAIM, "amount_rupiah": rupiah, "paid_on": fields.calendar_date}),
                   dated(_pay), "BPJS pays the approved benefit."))
register(EventType("claim.rejected", BPJS, spec({**CLAIM, "reason": reason, "rejected_on": fields.calendar_date}),
                   dated(_reject), "BPJS rejects the claim, with a reason."))
