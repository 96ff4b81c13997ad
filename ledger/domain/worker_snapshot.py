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
from ledger.domain.paid_months import PAID, PaidMonths
from ledger.domain.workers import Membership, Worker

MEMBERSHIP = tuple(field.name for field in fields(Membership))
CLAIM = tuple(field.name for field in fields(ClaimState))
# The state is two JSON texts on two lines: the worker, then its paid months' rows, which a
# restored worker keeps encoded until a rule reads a month's details (paid_months.py).
WORKER = ("reference", "memberships", "standing months", "death_claim", "\n", "paid rows")
FINGERPRINT = hashlib.sha256(repr((WORKER, MEMBERSHIP, PAID, CLAIM)).encode()).hexdigest()[:12]
_membership_values = attrgetter(*MEMBERSHIP)
_claim_values = attrgetter(*CLAIM)
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)
_DECODER = json.JSONDecoder()
_NO_ROWS = b"[]"


def encode(worker: Worker) -> bytes:
    """The worker's state: [created, modified, reference, memberships, standing months, death
    claim], a newline, then [[month, *PaidMonth fields], ...] (rows still encoded are copied)."""
    assert {"reference", "memberships", "paid", "death_claim", "_id", "_version", "_created_on", "_modified_on",
            "_pending_events"} >= set(vars(worker)), "a worker attribute the snapshot would lose"
    claim = worker.death_claim
    encoded, decoded, standing = worker.paid.rows()
    header = _ENCODER.encode((
        worker.created_on.isoformat(), worker.modified_on.isoformat(), worker.reference,
        [_membership_values(membership) for membership in worker.memberships.values()], standing,
        None if claim is None else _claim_values(claim),
    )).encode()
    rows = _ENCODER.encode(decoded).encode()
    if encoded is not None and rows == _NO_ROWS:
        rows = encoded
    elif encoded is not None:
        rows = encoded[:-1] + b"," + rows[1:]
    return header + b"\n" + rows


def decode(aggregate_id: UUID, version: int, state: bytes) -> Worker:
    """The worker at `version` from its encoded state (its paid months' rows left encoded)."""
    header, newline, rows = state.partition(b"\n")
    if not newline:
        raise ValueError("a worker's snapshot has two lines")
    created, modified, reference, memberships, standing, claim = _DECODER.decode(header.decode())
    worker = object.__new__(Worker)
    vars(worker).update(
        _id=aggregate_id, _version=version, _created_on=datetime.fromisoformat(created),
        _modified_on=datetime.fromisoformat(modified), _pending_events=[], reference=reference,
        memberships={values[0]: Membership(*values) for values in memberships},
        paid=PaidMonths(None if rows == _NO_ROWS else rows, frozenset(map(intern, standing))),
        death_claim=None if claim is None else ClaimState(*claim))
    return worker


CODEC = snapshots.register(snapshots.SnapshotCodec(Worker, f"worker/{FINGERPRINT}", encode, decode))
