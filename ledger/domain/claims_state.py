"""A claim's state, held by the aggregate that records it: a death claim (JKM, or JKK with
death) by the worker, since one death pays one benefit; a JKK injury claim by its own."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ledger.entry import LogEntry


@dataclass
class ClaimState:
    claim_id: str
    worker: str
    programme: str
    benefit: str
    fatal: bool
    incident_on: str
    filed_on: str
    filed_at: int
    status: str = "filed"
    approved_rupiah: int | None = None
    approved_on: str | None = None
    approved_at: int | None = None
    complete_on: str | None = None
    deadline_on: str | None = None
    paid_on: str | None = None
    paid_at: int | None = None
    decided_by: str | None = None  # who approved (and paid): only they may reverse it
    rejection_reason: str | None = None

    @classmethod
    def filed(cls, entry: LogEntry) -> ClaimState:
        payload = entry.payload
        return cls(payload["claim"], payload["worker"], payload["programme"], payload["benefit"], is_fatal(payload),
                   payload["incident_on"], payload["filed_on"], entry.index)

    @property
    def paid_late(self) -> bool:
        return bool(self.paid_on and self.deadline_on and self.paid_on > self.deadline_on)


def _approved(state: ClaimState, entry: LogEntry) -> ClaimState:
    payload = entry.payload
    return replace(state, status="approved", approved_rupiah=payload["amount_rupiah"], approved_at=entry.index,
                   approved_on=payload["approved_on"], complete_on=payload["complete_on"],
                   deadline_on=payload["deadline_on"], decided_by=entry.actor)


def _paid(state: ClaimState, entry: LogEntry) -> ClaimState:
    return replace(state, status="paid", paid_on=entry.payload["paid_on"], paid_at=entry.index)


def _rejected(state: ClaimState, entry: LogEntry) -> ClaimState:
    return replace(state, status="rejected", rejection_reason=entry.payload["reason"])


def _payment_reversed(state: ClaimState, entry: LogEntry) -> ClaimState:
    return replace(state, status="approved", paid_on=None, paid_at=None)


def _approval_reversed(state: ClaimState, entry: LogEntry) -> ClaimState:
    return replace(state, status="filed", approved_rupiah=None, approved_at=None, approved_on=None,
                   complete_on=None, deadline_on=None)


CLAIM_MUTATORS = {"claim.approved": _approved, "claim.paid": _paid, "claim.rejected": _rejected}
# A reversed payment puts the claim back to approved; a reversed approval back to filed.
CLAIM_REVERSALS = {"claim.paid": _payment_reversed, "claim.approved": _approval_reversed}


def next_claim_state(state: ClaimState | None, entry: LogEntry) -> ClaimState:
    """The claim after an already-checked claim event or reversal of one (a pure function)."""
    if entry.type == "claim.filed":
        return ClaimState.filed(entry)
    if entry.type == "entry.reversed":
        return CLAIM_REVERSALS[entry.payload["reverses"]](state, entry)
    return CLAIM_MUTATORS[entry.type](state, entry)


def is_fatal(payload: dict) -> bool:
    """A claim for a death: every JKM claim, and a JKK claim that says so."""
    return payload["benefit"] == "jkm" or bool(payload.get("fatal"))
