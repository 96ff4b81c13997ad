"""Claims for JKM (death) and JKK (work accident): filed, approved, paid or rejected.

Claims are paid from BPJS's insurance fund, not from the CSR money; they are the impact that
the money bought. One JKM claim per worker: its aggregate id derives from the worker."""

from __future__ import annotations


from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger import fields
from ledger.decision import Decision
from ledger.domain.common import aggregate_uuid, reason, rupiah, spec, worker_ref
from ledger.domain.money import BPJS, programme_of
from ledger.domain.rates import add_working_days, jkm_benefit, month_of
from ledger.domain.workers import existing_worker
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, NotFound, RuleViolation
from ledger.event_types import EventType, register

BENEFITS = ("jkm", "jkk")


def claim_uuid(benefit: str, worker: str, claim: str) -> UUID:
    """JKM: one per worker, so the id is the worker's; JKK: one per claim."""
    return aggregate_uuid("claim-jkm", worker) if benefit == "jkm" else aggregate_uuid("claim-jkk", claim)


class Claim(Aggregate):
    @staticmethod
    def create_id(entry: LogEntry) -> UUID:
        payload = entry.payload
        return claim_uuid(payload["benefit"], payload["worker"], payload["claim"])

    @event("Filed")
    def __init__(self, entry: LogEntry):
        payload = entry.payload
        self.claim_id: str = payload["claim"]
        self.worker: str = payload["worker"]
        self.programme: str = payload["programme"]
        self.benefit: str = payload["benefit"]
        self.incident_on: str = payload["incident_on"]
        self.filed_on: str = payload["filed_on"]
        self.filed_at: int = entry.index
        self.status = "filed"
        self.approved_rupiah: int | None = None
        self.complete_on: str | None = None
        self.deadline_on: str | None = None
        self.paid_on: str | None = None
        self.paid_at: int | None = None
        self.rejection_reason: str | None = None

    @event("Recorded")
    def record(self, entry: LogEntry) -> None:
        payload = entry.payload
        if entry.type == "claim.approved":
            self.status, self.approved_rupiah = "approved", payload["amount_rupiah"]
            self.complete_on, self.deadline_on = payload["complete_on"], payload["deadline_on"]
        elif entry.type == "claim.paid":
            self.status, self.paid_on, self.paid_at = "paid", payload["paid_on"], entry.index
        elif entry.type == "claim.rejected":
            self.status, self.rejection_reason = "rejected", payload["reason"]

    @property
    def paid_late(self) -> bool:
        return bool(self.paid_on and self.deadline_on and self.paid_on > self.deadline_on)


def _claim(decision: Decision, entry: LogEntry, status: str) -> Claim:
    payload = entry.payload
    claim = decision.get(Claim, claim_uuid(payload["benefit"], payload["worker"], payload["claim"]))
    if claim is None or claim.claim_id != payload["claim"]:
        raise NotFound(f"{payload['benefit'].upper()} claim {payload['claim']!r} was not filed", field="payload.claim")
    for name, value in (("worker", claim.worker), ("programme", claim.programme)):
        if payload[name] != value:
            raise RuleViolation(f"the claim was filed for {name} {value[:16]}", field=f"payload.{name}")
    if claim.status != status:
        raise RuleViolation(f"the claim is {claim.status}, not {status}", field="payload.claim")
    return claim


def _file(decision: Decision, entry: LogEntry) -> None:
    payload = entry.payload
    worker = existing_worker(decision, entry)
    incident_month = month_of(fields.calendar_date(payload["incident_on"], "payload.incident_on"))
    if not worker.covered(incident_month):
        raise RuleViolation(f"the worker was not covered in {incident_month} (no premium paid)",
                            field="payload.incident_on")
    if payload["filed_on"] < payload["incident_on"]:
        raise RuleViolation("a claim is filed after the incident", field="payload.filed_on")
    if decision.get(Claim, claim_uuid(payload["benefit"], payload["worker"], payload["claim"])) is not None:
        what = "this worker has a JKM claim already" if payload["benefit"] == "jkm" else "claim exists already"
        raise AlreadyExists(what, field="payload.claim")
    decision.add(Claim(entry))


def _approve(decision: Decision, entry: LogEntry) -> None:
    payload = entry.payload
    claim = _claim(decision, entry, "filed")
    rules = programme_of(decision, entry).rules
    if claim.benefit == "jkm":
        worker = existing_worker(decision, entry)
        expected = jkm_benefit(rules, worker.paid_months_through(claim.incident_on[:7]))
        if payload["amount_rupiah"] != expected:
            raise RuleViolation(f"the JKM benefit for this membership is Rp{expected:,}", field="payload.amount_rupiah")
    elif payload["amount_rupiah"] > rules["benefits"]["jkk_max_rupiah"]:
        raise RuleViolation("above the JKK bound of the rules", field="payload.amount_rupiah")
    days = rules["benefits"]["payment_deadline_working_days"][claim.benefit]
    complete_on = fields.calendar_date(payload["complete_on"], "payload.complete_on")
    deadline = add_working_days(complete_on, days).isoformat()
    if payload["deadline_on"] != deadline:
        raise RuleViolation(f"must be {deadline}: {days} working days after the complete claim",
                            field="payload.deadline_on")
    claim.record(entry)


def _pay(decision: Decision, entry: LogEntry) -> None:
    claim = _claim(decision, entry, "approved")
    if entry.payload["amount_rupiah"] != claim.approved_rupiah:
        raise RuleViolation(f"the approved amount is Rp{claim.approved_rupiah:,}", field="payload.amount_rupiah")
    if entry.payload["paid_on"] < (claim.complete_on or ""):
        raise RuleViolation("paid before the claim was complete", field="payload.paid_on")
    claim.record(entry)


def _reject(decision: Decision, entry: LogEntry) -> None:
    _claim(decision, entry, "filed").record(entry)


CLAIM = {"programme": fields.identifier, "claim": fields.identifier, "worker": worker_ref,
         "benefit": fields.one_of(*BENEFITS)}
register(EventType("claim.filed", BPJS, spec({**CLAIM, "incident_on": fields.calendar_date,
                                              "filed_on": fields.calendar_date}), _file,
                   "An heir or worker files a JKM or JKK claim."))
register(EventType("claim.approved", BPJS, spec({**CLAIM, "amount_rupiah": rupiah,
                                                 "approved_on": fields.calendar_date,
                                                 "complete_on": fields.calendar_date,
                                                 "deadline_on": fields.calendar_date}), _approve,
                   "BPJS approves the benefit; the payment deadline is fixed here."))
register(EventType("claim.paid", BPJS, spec({**CLAIM, "amount_rupiah": rupiah, "paid_on": fields.calendar_date}),
                   _pay, "BPJS pays the approved benefit."))
register(EventType("claim.rejected", BPJS, spec({**CLAIM, "reason": reason, "rejected_on": fields.calendar_date}),
                   _reject, "BPJS rejects the claim, with a reason."))

