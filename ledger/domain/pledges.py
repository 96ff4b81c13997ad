"""Pledges: a company's promise of CSR money to a programme year."""

from __future__ import annotations

import uuid
from functools import partial
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger import fields
from ledger.decision import Decision
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists
from ledger.event_types import EventType, register
from ledger.organisations import NAMESPACE

MAX_RUPIAH = 1_000_000_000_000  # Rp1 trillion: far above any CSR pledge, far below 2**53


def pledge_uuid(pledge_id: str) -> UUID:
    return uuid.uuid5(NAMESPACE, f"pledge:{pledge_id}")


class Pledge(Aggregate):
    """A promise of money by one company."""

    @staticmethod
    def create_id(entry: LogEntry) -> UUID:
        return pledge_uuid(entry.payload["pledge"])

    @event("Made")
    def __init__(self, entry: LogEntry):
        self.pledge_id: str = entry.payload["pledge"]
        self.company: str = entry.actor
        self.programme: str = entry.payload["programme"]
        self.amount_rupiah: int = entry.payload["amount_rupiah"]
        self.made_at: int = entry.index


def _make(decision: Decision, entry: LogEntry) -> None:
    pledge_id = entry.payload["pledge"]
    if decision.get(Pledge, pledge_uuid(pledge_id)) is not None:
        raise AlreadyExists(f"pledge {pledge_id!r} exists already", field="payload.pledge")
    decision.add(Pledge(entry))


PLEDGE_SPEC = {
    "pledge": fields.identifier,
    "programme": fields.identifier,
    "amount_rupiah": fields.integer(1, MAX_RUPIAH, " rupiah"),
}

register(EventType("pledge.made", frozenset({"company"}),
                   partial(fields.check_payload, spec=PLEDGE_SPEC), _make,
                   "A company pledges an amount to a programme year."))
