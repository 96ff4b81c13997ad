"""The payloads of the workers' own events (enrolment, correction, withdrawal), declared once
(ledger/payload_types.py); their rules are in workers.py."""

from __future__ import annotations

from ledger import fields
from ledger.domain.common import boolean, reason, worker_ref
from ledger.domain.rates import CATEGORIES
from ledger.payload_types import optional, payload_type, required


def _income(value: object, field: str) -> object:
    return fields.integer(1, 10**9, " rupiah")(value, field)


_CATEGORY = fields.one_of(*CATEGORIES)
_KELURAHAN = fields.text(100)


@payload_type
class WorkerEnrolled:
    programme: str = required(fields.identifier)
    worker: str = required(worker_ref)
    category: str = required(_CATEGORY)
    kelurahan: str = required(_KELURAHAN)
    income_rupiah: int = required(_income)
    jht: bool = required(boolean)
    enrolled_on: str = required(fields.calendar_date)
    member_since: str | None = optional(fields.calendar_date)  # the enrolment when left out
    member_since_reference: str | None = optional(fields.text(100))  # goes with member_since


@payload_type
class WorkerUpdated:
    """What a correction changes: the profile fields it holds; one left out (None) stays."""

    programme: str = required(fields.identifier)
    worker: str = required(worker_ref)
    reason: str = required(reason)
    category: str | None = optional(_CATEGORY)
    kelurahan: str | None = optional(_KELURAHAN)
    income_rupiah: int | None = optional(_income)
    jht: bool | None = optional(boolean)


@payload_type
class WorkerWithdrawn:
    programme: str = required(fields.identifier)
    worker: str = required(worker_ref)
    withdrawn_on: str = required(fields.calendar_date)
    reason: str = required(reason)


PROFILE = ("category", "kelurahan", "income_rupiah", "jht")  # what worker.updated may change
