"""A claim's state, held by the aggregate that records it: a death claim (JKM, or JKK with
death) by the worker, since one death pays one benefit; a JKK injury claim by its own."""

from __future__ import annotations

from dataclasses import dataclass

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
        fatal = payload["benefit"] == "jkm" or bool(payload.get("fatal"))
        return cls(payload["claim"], payload["worker"], payload["programme"], payload["benefit"], fatal,
                   payload["incident_on"], payload["filed_on"], entry.index)

    def record(self, entry: LogEntry) -> None:
        """Apply an already-checked claim.approved, claim.paid or claim.rejected."""
        payload = entry.payload
        if entry.type == "claim.approved":
            self.status, self.approved_rupiah, self.approved_at = "approved", payload["amount_rupiah"], entry.index
            self.approved_on, self.complete_on = payload["approved_on"], payload["complete_on"]
            self.deadline_on, self.decided_by = payload["deadline_on"], entry.actor
        elif entry.type == "claim.paid":
            self.status, self.paid_on, self.paid_at = "paid", payload["paid_on"], entry.index
        elif entry.type == "claim.rejected":
            self.status, self.rejection_reason = "rejected", payload["reason"]

    def reverse(self, entry: LogEntry) -> None:
        """A reversed payment puts the claim back to approved; a reversed approval to filed."""
        if entry.payload["reverses"] == "claim.paid":
            self.status, self.paid_on, self.paid_at = "approved", None, None
        else:
            self.status, self.approved_rupiah, self.approved_at = "filed", None, None
            self.approved_on = self.complete_on = self.deadline_on = None

    @property
    def paid_late(self) -> bool:
        return bool(self.paid_on and self.deadline_on and self.paid_on > self.deadline_on)
