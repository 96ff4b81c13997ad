"""Organisations and their Ed25519 keys: genesis, registration, key add, rotate and revoke.

A key is valid for entries with index in [valid_from, revoked_at): registered keys from the
entry after their registration, the registrar's genesis key from entry 0 (it signs genesis).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache, partial
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger import fields, signing
from ledger.decision import Decision
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, NotFound, RuleViolation
from ledger.event_types import ORGANISATION_KINDS, EventType, register

NAMESPACE = uuid.UUID("6f1c5a8e-0b7d-5e47-9a55-616d616e6168")
GENESIS_TYPE = "ledger.created"


@lru_cache(maxsize=4096)
def organisation_uuid(organisation_id: str) -> UUID:
    """The aggregate id of an organisation."""
    return uuid.uuid5(NAMESPACE, f"organisation:{organisation_id}")


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    public_key: bytes
    valid_from: int
    revoked_at: int | None = None
    revocation_reason: str | None = None

    def valid_at(self, index: int) -> bool:
        """Whether a signature on entry `index` counts."""
        return self.valid_from <= index and (self.revoked_at is None or index < self.revoked_at)


@dataclass(frozen=True)
class CheckpointKeyRecord:
    """A checkpoint verifier key declared by entry `declared_at`: it signs the checkpoints of
    tree sizes greater than `declared_at`, until the next record's entry."""

    verifier_key: str
    declared_at: int


class Organisation(Aggregate):
    """An actor of the ledger with its kind and keys.

    Like `Programme` and `Worker`, its state changes only through the mutator table below,
    applied by the writer's stored events and, without event objects, by the verifier's replay
    (`apply_recorded`). Each change keeps its own event class (`KeyAdded`, ...), so the stored
    events' topics are those of every existing ledger."""

    @staticmethod
    def create_id(entry: LogEntry) -> UUID:
        return organisation_uuid(entry.payload["organisation"])

    @event("Registered")
    def __init__(self, entry: LogEntry):
        _registered(self, entry)

    class Changed(Aggregate.Event):
        """A checked key change; its class names the change in the store."""

        entry: LogEntry

        def apply(self, aggregate: Organisation) -> None:
            aggregate.apply_recorded(self.entry)

    class KeyAdded(Changed):
        pass

    class KeyRevoked(Changed):
        pass

    class KeyRotated(Changed):
        pass

    class CheckpointKeyRotated(Changed):
        pass

    def record(self, entry: LogEntry) -> None:
        """Apply a checked entry, recorded as this aggregate's event of the entry's type."""
        self.trigger_event(_EVENT_CLASSES[entry.type], entry=entry)

    def apply_recorded(self, entry: LogEntry) -> None:
        """What `record` changes, without an event object (the verifier's replay)."""
        _MUTATORS[entry.type](self, entry)

    def active_key_ids(self) -> list[str]:
        return [key.key_id for key in self.keys.values() if key.revoked_at is None]


def organisation_kind(payload: dict) -> str:
    """The kind a registration declares; genesis declares none: it creates the registrar."""
    return payload.get("kind", "registrar")


# ---- state: each entry type's change, a plain function of (organisation, entry) ------------

def _registered(organisation: Organisation, entry: LogEntry) -> None:
    payload = entry.payload
    organisation.organisation_id = payload["organisation"]
    organisation.legal_name = payload["legal_name"]
    organisation.kind = organisation_kind(payload)
    organisation.registered_at = entry.index
    public = signing.b64decode(payload["public_key"], "public_key")
    first_valid = entry.index if entry.type == GENESIS_TYPE else entry.index + 1
    organisation.keys = {signing.key_id(public): KeyRecord(signing.key_id(public), public, first_valid)}
    # Only the registrar, declared by genesis, holds the ledger's checkpoint keys.
    organisation.checkpoint_keys = (
        (CheckpointKeyRecord(payload["checkpoint_key"], entry.index),) if entry.type == GENESIS_TYPE else ())


def _key_added(organisation: Organisation, entry: LogEntry) -> None:
    record = _new_key(entry)
    organisation.keys = {**organisation.keys, record.key_id: record}


def _key_revoked(organisation: Organisation, entry: LogEntry) -> None:
    organisation.keys = _revoked(organisation.keys, entry.payload["key_id"], entry)


def _key_rotated(organisation: Organisation, entry: LogEntry) -> None:
    record = _new_key(entry)
    organisation.keys = {**_revoked(organisation.keys, entry.payload["replaces"], entry), record.key_id: record}


def _checkpoint_key_rotated(organisation: Organisation, entry: LogEntry) -> None:
    record = CheckpointKeyRecord(entry.payload["checkpoint_key"], entry.index)
    organisation.checkpoint_keys = (*organisation.checkpoint_keys, record)


def _new_key(entry: LogEntry) -> KeyRecord:
    """A key an entry declares: it signs from the next entry on."""
    public = signing.b64decode(entry.payload["public_key"], "public_key")
    return KeyRecord(signing.key_id(public), public, entry.index + 1)


def _revoked(keys: dict[str, KeyRecord], key_id: str, entry: LogEntry) -> dict[str, KeyRecord]:
    old = keys[key_id]
    reason = entry.payload.get("reason", "rotated")
    return {**keys, key_id: KeyRecord(old.key_id, old.public_key, old.valid_from, entry.index, reason)}


CHECKPOINT_KEY_ROTATED = "ledger.checkpoint_key_rotated"  # registered by ledger/checkpoint_keys.py
_MUTATORS = {
    "key.added": _key_added, "key.revoked": _key_revoked, "key.rotated": _key_rotated,
    CHECKPOINT_KEY_ROTATED: _checkpoint_key_rotated,
}
_EVENT_CLASSES = {
    "key.added": Organisation.KeyAdded, "key.revoked": Organisation.KeyRevoked,
    "key.rotated": Organisation.KeyRotated, CHECKPOINT_KEY_ROTATED: Organisation.CheckpointKeyRotated,
}


# ---- event types ---------------------------------------------------------------------------

def _existing(decision: Decision, entry: LogEntry) -> Organisation:
    organisation_id = entry.payload["organisation"]
    organisation = decision.get(Organisation, organisation_uuid(organisation_id))
    if organisation is None:
        raise NotFound(f"organisation {organisation_id!r} is not registered", field="payload.organisation")
    return organisation


def _create(decision: Decision, entry: LogEntry) -> None:
    organisation_id = entry.payload["organisation"]
    if decision.get(Organisation, organisation_uuid(organisation_id)) is not None:
        raise AlreadyExists(f"organisation {organisation_id!r} is registered already",
                            field="payload.organisation")
    decision.add(Organisation(entry))


def _add_key(decision: Decision, entry: LogEntry) -> None:
    organisation = _existing(decision, entry)
    _refuse_known_key(organisation, entry.payload["public_key"])
    decision.record(organisation, entry)


def _revoke_key(decision: Decision, entry: LogEntry) -> None:
    organisation = _existing(decision, entry)
    _require_active(organisation, entry.payload["key_id"], "payload.key_id")
    if organisation.active_key_ids() == [entry.payload["key_id"]]:
        raise RuleViolation("cannot revoke an organisation's last active key; rotate it instead",
                            field="payload.key_id")
    decision.record(organisation, entry)


def _rotate_key(decision: Decision, entry: LogEntry) -> None:
    organisation = _existing(decision, entry)
    _require_active(organisation, entry.payload["replaces"], "payload.replaces")
    _refuse_known_key(organisation, entry.payload["public_key"])
    decision.record(organisation, entry)


def _require_active(organisation: Organisation, key_id: str, field: str) -> None:
    if key_id not in organisation.active_key_ids():
        raise RuleViolation(f"{key_id} is not an active key of {organisation.organisation_id}", field=field)


def _refuse_known_key(organisation: Organisation, public_b64: str) -> None:
    new_id = signing.key_id(signing.b64decode(public_b64, "payload.public_key"))
    if new_id in organisation.keys:
        raise AlreadyExists("this public key was registered before; keys are never reused",
                            field="payload.public_key")


_ORGANISATION_SPEC = {
    "organisation": fields.organisation_id,
    "legal_name": fields.text(200),
    "kind": fields.one_of(*[kind for kind in ORGANISATION_KINDS if kind != "registrar"]),
    "public_key": fields.public_key,
}
_GENESIS_SPEC = {
    "organisation": fields.organisation_id,
    "legal_name": fields.text(200),
    "public_key": fields.public_key,
    "checkpoint_key": fields.text(300),
}
_REGISTRAR = frozenset({"registrar"})


def _spec(spec: dict, optional: dict | None = None):
    return partial(_check, spec=spec, optional=optional)


def _check(payload: dict, where: str, spec: dict, optional: dict | None) -> None:
    fields.check_payload(payload, where, spec, optional)


register(EventType(GENESIS_TYPE, _REGISTRAR, _spec(_GENESIS_SPEC), _create,
                   "Genesis: the registrar, its key and the ledger's checkpoint key."))
register(EventType("organisation.registered", _REGISTRAR, _spec(_ORGANISATION_SPEC), _create,
                   "The registrar registers an organisation with its first public key."))
register(EventType("key.added", _REGISTRAR,
                   _spec({"organisation": fields.organisation_id, "public_key": fields.public_key}),
                   _add_key, "A further key for an organisation."))
register(EventType("key.revoked", _REGISTRAR,
                   _spec({"organisation": fields.organisation_id, "key_id": fields.key_id,
                          "reason": fields.text(200)}),
                   _revoke_key, "A key stops counting from this entry on."))
register(EventType("key.rotated", _REGISTRAR,
                   _spec({"organisation": fields.organisation_id, "public_key": fields.public_key,
                          "replaces": fields.key_id}),
                   _rotate_key, "A new key replaces an old one in one entry."))
