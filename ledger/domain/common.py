"""Helpers shared by the money-flow modules: ids, payload specs, and lookups with named errors."""

from __future__ import annotations

import re
import uuid
from functools import lru_cache, partial
from datetime import date, timedelta
from uuid import UUID

from ledger import fields
from ledger.decision import Decision
from ledger.errors import NotFound, RuleViolation
from ledger.organisations import NAMESPACE, Organisation, organisation_uuid

MAX_RUPIAH = 1_000_000_000_000  # Rp1 trillion: far above any CSR amount, far below 2**53
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")  # not \d, which matches every script's digits
WORKER_REF = re.compile(r"[0-9a-f]{64}")

rupiah = fields.integer(1, MAX_RUPIAH, " rupiah")
month = fields.text(7, MONTH, "must be a month like 2025-03")
worker_ref = fields.text(64, WORKER_REF, "must be a pseudonymous worker reference (64 hex digits)")
reason = fields.text(500)


def boolean(value: object, field: str) -> object:
    if not isinstance(value, bool):
        from ledger.errors import InvalidInput

        raise InvalidInput("must be true or false", field=field)
    return value


@lru_cache(maxsize=1 << 18)
def aggregate_uuid(kind: str, key: str) -> UUID:
    """Deterministic aggregate ids: the same key always names the same aggregate."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{key}")


def spec(required: dict, optional: dict | None = None):
    """A payload checker for EventType.check_payload."""
    return partial(fields.check_payload, spec=required, optional=optional)


def organisation_of_kind(decision: Decision, organisation_id: str, kind: str, field: str) -> Organisation:
    """A registered organisation that must be of `kind`."""
    organisation = decision.get(Organisation, organisation_uuid(organisation_id))
    if organisation is None:
        raise NotFound(f"{organisation_id!r} is not a registered organisation", field=field)
    if organisation.kind != kind:
        raise RuleViolation(f"{organisation_id!r} is a {organisation.kind}, not a {kind}", field=field)
    return organisation


# Dates that say when something happened: none may lie in the future of the moment the entry
# was recorded, beyond a day's allowance for clocks and time zones (WIB is UTC+7).
HAPPENED_DATES = ("pledged_on", "received_on", "made_on", "paid_on", "enrolled_on", "member_since",
                  "withdrawn_on", "incident_on", "filed_on", "complete_on", "approved_on", "rejected_on",
                  "refunded_on", "invited_on", "published_on", "decided_on")
CLOCK_ALLOWANCE = timedelta(days=1)


def check_not_future(entry) -> None:
    """Refuse an entry that reports a date after it was recorded (plus the allowance)."""
    latest = (date.fromisoformat(entry.recorded_at[:10]) + CLOCK_ALLOWANCE).isoformat()
    occurred = entry.envelope.get("occurred_at", "")[:10]
    if occurred > latest:
        raise RuleViolation(f"{occurred} is in the future of when it was recorded ({entry.recorded_at[:10]})",
                            field="occurred_at")
    for name in HAPPENED_DATES:
        value = entry.payload.get(name)
        if isinstance(value, str) and value > latest:
            raise RuleViolation(f"{value} is in the future of when it was recorded ({entry.recorded_at[:10]})",
                                field=f"payload.{name}")


def dated(handler):
    """An event handler that first refuses dates in the future."""

    def apply(decision: Decision, entry) -> None:
        check_not_future(entry)
        handler(decision, entry)

    apply.__doc__ = handler.__doc__
    return apply


def not_before(later: str, earlier: str, field: str, what: str) -> None:
    """`later` (a date) must not precede `earlier`."""
    if later < earlier:
        raise RuleViolation(f"must not be before {what} ({earlier})", field=field)
