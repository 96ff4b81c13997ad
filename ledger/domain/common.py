"""Helpers shared by the money-flow modules: ids, payload specs, and lookups with named errors."""

from __future__ import annotations

import re
import uuid
from functools import lru_cache, partial
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
