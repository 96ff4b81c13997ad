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
from operator import attrgetter
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
# Strings most months share: interned as the rules' own `_paid` does, so a cache of many workers
# holds one copy of each.
_INTERNED_AT = tuple(position for position, name in enumerate(PAID)
                     if name in ("programme", "disbursement", "batch", "recorded_by", "paid_on"))
_membership_values = attrgetter(*MEMBERSHIP)
_paid_values = attrgetter(*PAID)
_claim_values = attrgetter(*CLAIM)
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)
_DECODER = json.JSONDecoder()


def encode(worker: Worker) -> bytes:
    """The worker's state: [created, modified, reference, memberships, paid months, death claim]."""
    assert set(WORKER) | {"_id", "_version", "_created_on", "_modified_on", "_pending_events"} >= set(
        vars(worker)), "a worker attribute the snapshot would lose"
    claim = worker.death_claim
    return _ENCODER.encode((
        worker.created_on.isoformat(), worker.modified_on.isoformat(), worker.reference,
        [_membership_values(membership) for membership in worker.memberships.values()],
        [(month_text, *_paid_values(paid)) for month_text, paid in worker.paid.items()],
        None if claim is None else _claim_values(claim),
    )).encode()


def decode(aggregate_id: UUID, version: int, state: bytes) -> Worker:
    """The worker at `version` from its encoded state."""
    created, modified, reference, memberships, paid, claim = _DECODER.decode(state.decode())
    months = {}
    for month_text, *values in paid:
        for position in _INTERNED_AT:
            values[position] = intern(values[position])
        months[intern(month_text)] = PaidMonth(*values)
    worker = object.__new__(Worker)
    vars(worker).update(
        _id=aggregate_id, _version=version, _created_on=datetime.fromisoformat(created),
        _modified_on=datetime.fromisoformat(modified), _pending_events=[], reference=reference,
        memberships={values[0]: Membership(*values) for values in memberships}, paid=months,
        death_claim=None if claim is None else ClaimState(*claim))
    return worker


CODEC = snapshots.register(snapshots.SnapshotCodec(Worker, f"worker/{FINGERPRINT}", encode, decode))
