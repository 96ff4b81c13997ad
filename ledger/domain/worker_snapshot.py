"""A worker's snapshot (ledger/snapshots.py): its state as compact JSON arrays, and back.

The state holds what the worker's events hold and nothing else: the pseudonymous reference, its
memberships, the months paid and a death claim. No NIK, name or other personal data is in the
events, so none is in a snapshot, and `forget` leaves nothing behind here.

The topic carries a fingerprint of the state's field names: adding, removing or reordering a
field gives new snapshots a new topic, and the older ones are ignored (rebuilt from events).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from datetime import datetime
from sys import intern
from uuid import UUID

from ledger import snapshots
from ledger.domain.claims_state import ClaimState
from ledger.domain.workers import Membership, PaidMonth, Worker

MEMBERSHIP = tuple(field.name for field in fields(Membership))
PAID = tuple(field.name for field in fields(PaidMonth))
CLAIM = tuple(field.name for field in fields(ClaimState))
WORKER = ("reference", "memberships", "paid", "death_claim")
FINGERPRINT = hashlib.sha256(repr((WORKER, MEMBERSHIP, PAID, CLAIM)).encode()).hexdigest()[:12]
_INTERNED = frozenset({"programme", "disbursement", "batch", "recorded_by", "paid_on"})


def encode(worker: Worker) -> bytes:
    """The worker's state: [created, modified, reference, memberships, paid months, death claim]."""
    assert set(WORKER) | {"_id", "_version", "_created_on", "_modified_on", "_pending_events"} >= set(
        vars(worker)), "a worker attribute the snapshot would lose"
    claim = worker.death_claim
    return json.dumps([
        worker.created_on.isoformat(), worker.modified_on.isoformat(), worker.reference,
        [[getattr(membership, name) for name in MEMBERSHIP] for membership in worker.memberships.values()],
        [[month_text, *(getattr(paid, name) for name in PAID)] for month_text, paid in worker.paid.items()],
        None if claim is None else [getattr(claim, name) for name in CLAIM],
    ], separators=(",", ":"), ensure_ascii=False).encode()


def decode(aggregate_id: UUID, version: int, state: bytes) -> Worker:
    """The worker at `version` from its encoded state."""
    created, modified, reference, memberships, paid, claim = json.loads(state)
    worker = object.__new__(Worker)
    months = {}
    for month_text, *values in paid:
        months[intern(month_text)] = PaidMonth(*(intern(value) if name in _INTERNED else value
                                                 for name, value in zip(PAID, values, strict=True)))
    vars(worker).update(
        _id=aggregate_id, _version=version, _created_on=datetime.fromisoformat(created),
        _modified_on=datetime.fromisoformat(modified), _pending_events=[], reference=reference,
        memberships={values[0]: Membership(*values) for values in memberships}, paid=months,
        death_claim=None if claim is None else ClaimState(*claim))
    return worker


CODEC = snapshots.register(snapshots.SnapshotCodec(Worker, f"worker/{FINGERPRINT}", encode, decode))
