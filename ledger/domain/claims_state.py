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
        filed = entry.values
        return cls(filed.claim, filed.worker, filed.programme, filed.benefit, is_fatal(filed.benefit, filed.fatal),
                   filed.incident_on, filed.filed_on, entry.index)

    @property
    def paid_late(self) -> bool:
        return bool(self.paid_on and self.deadline_on and self.paid_on > self.deadline_on)


def _approved(state: ClaimState, entry: LogEntry) -> ClaimState:
    approved = entry.values
    return replace(state, status="approved", approved_rupiah=approved.amount_rupiah, approved_at=entry.index,
                   approved_on=approved.approved_on, complete_on=approved.complete_on,
                   deadline_on=approved.deadline_on, decided_by=entry.actor)


def _paid(state: ClaimState, entry: LogEntry) -> ClaimState:
    return replace(state, status="paid", paid_on=entry.values.paid_on, paid_at=entry.index)


def _rejected(state: ClaimState, entry: LogEntry) -> ClaimState:
    return replace(state, status="rejected", rejection_reason=entry.values.reason)


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
        return CLAIM_REVERSALS[entry.values.reverses](state, entry)
    return CLAIM_MUTATORS[entry.type](state, entry)


def is_fatal(benefit: str, fatal: bool | None) -> bool:
    """A claim for a death: every JKM claim, and a JKK claim that says so (`fatal`, None when
    the claim leaves it out)."""
    return benefit == "jkm" or bool(fatal)
