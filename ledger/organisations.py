"""Organisations and their Ed25519 keys: genesis, registration, key add, rotate and revoke.

A key is valid for entries with index in [valid_from, revoked_at): registered keys from the
entry after their registration, the registrar's genesis key from entry 0 (it signs genesis).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger import fields, signing
from ledger.decision import Decision
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, NotFound, RuleViolation
from ledger.event_types import ORGANISATION_KINDS, register, typed
from ledger.payload_types import payload_type, required

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
        return organisation_uuid(entry.values.organisation)

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


def organisation_kind(registered: LedgerCreated | OrganisationRegistered) -> str:
    """The kind a registration declares; genesis declares none: it creates the registrar."""
    return getattr(registered, "kind", "registrar")


# ---- state: each entry type's change, a plain function of (organisation, entry) ------------

def _registered(organisation: Organisation, entry: LogEntry) -> None:
    registered = entry.values
    organisation.organisation_id = registered.organisation
    organisation.legal_name = registered.legal_name
    organisation.kind = organisation_kind(registered)
    organisation.registered_at = entry.index
    public = signing.b64decode(registered.public_key, "public_key")
    first_valid = entry.index if entry.type == GENESIS_TYPE else entry.index + 1
    organisation.keys = {signing.key_id(public): KeyRecord(signing.key_id(public), public, first_valid)}
    # Only the registrar, declared by genesis, holds the ledger's checkpoint keys.
    organisation.checkpoint_keys = (
        (CheckpointKeyRecord(registered.checkpoint_key, entry.index),) if entry.type == GENESIS_TYPE else ())


def _key_added(organisation: Organisation, entry: LogEntry) -> None:
    record = _new_key(entry)
    organisation.keys = {**organisation.keys, record.key_id: record}


def _key_revoked(organisation: Organisation, entry: LogEntry) -> None:
    organisation.keys = _revoked(organisation.keys, entry.values.key_id, entry)


def _key_rotated(organisation: Organisation, entry: LogEntry) -> None:
    record = _new_key(entry)
    organisation.keys = {**_revoked(organisation.keys, entry.values.replaces, entry), record.key_id: record}


def _checkpoint_key_rotated(organisation: Organisation, entry: LogEntry) -> None:
    record = CheckpointKeyRecord(entry.values.checkpoint_key, entry.index)
    organisation.checkpoint_keys = (*organisation.checkpoint_keys, record)


def _new_key(entry: LogEntry) -> KeyRecord:
    """A key an entry declares: it signs from the next entry on."""
    public = signing.b64decode(entry.values.public_key, "public_key")
    return KeyRecord(signing.key_id(public), public, entry.index + 1)


def _revoked(keys: dict[str, KeyRecord], key_id: str, entry: LogEntry) -> dict[str, KeyRecord]:
    old = keys[key_id]
    reason = getattr(entry.values, "reason", "rotated")  # a rotation gives none
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
    organisation_id = entry.values.organisation
    organisation = decision.get(Organisation, organisation_uuid(organisation_id))
    if organisation is None:
        raise NotFound(f"organisation {organisation_id!r} is not registered", field="payload.organisation")
    return organisation


def _create(decision: Decision, entry: LogEntry) -> None:
    organisation_id = entry.values.organisation
    if decision.get(Organisation, organisation_uuid(organisation_id)) is not None:
        raise AlreadyExists(f"organisation {organisation_id!r} is registered already",
                            field="payload.organisation")
    decision.add(Organisation(entry))


def _add_key(decision: Decision, entry: LogEntry) -> None:
    organisation = _existing(decision, entry)
    _refuse_known_key(organisation, entry.values.public_key)
    decision.record(organisation, entry)


def _revoke_key(decision: Decision, entry: LogEntry) -> None:
    organisation = _existing(decision, entry)
    _require_active(organisation, entry.values.key_id, "payload.key_id")
    if organisation.active_key_ids() == [entry.values.key_id]:
        raise RuleViolation("cannot revoke an organisation's last active key; rotate it instead",
                            field="payload.key_id")
    decision.record(organisation, entry)


def _rotate_key(decision: Decision, entry: LogEntry) -> None:
    organisation = _existing(decision, entry)
    _require_active(organisation, entry.values.replaces, "payload.replaces")
    _refuse_known_key(organisation, entry.values.public_key)
    decision.record(organisation, entry)


def _require_active(organisation: Organisation, key_id: str, field: str) -> None:
    if key_id not in organisation.active_key_ids():
        raise RuleViolation(f"{key_id} is not an active key of {organisation.organisation_id}", field=field)


def _refuse_known_key(organisation: Organisation, public_b64: str) -> None:
    new_id = signing.key_id(signing.b64decode(public_b64, "payload.public_key"))
    if new_id in organisation.keys:
        raise AlreadyExists("this public key was registered before; keys are never reused",
                            field="payload.public_key")


@payload_type
class LedgerCreated:
    organisation: str = required(fields.organisation_id)
    legal_name: str = required(fields.text(200))
    public_key: str = required(fields.public_key)  # base64, as signed
    checkpoint_key: str = required(fields.text(300))


@payload_type
class OrganisationRegistered:
    organisation: str = required(fields.organisation_id)
    legal_name: str = required(fields.text(200))
    kind: str = required(fields.one_of(*[kind for kind in ORGANISATION_KINDS if kind != "registrar"]))
    public_key: str = required(fields.public_key)


@payload_type
class KeyAdded:
    organisation: str = required(fields.organisation_id)
    public_key: str = required(fields.public_key)


@payload_type
class KeyRevoked:
    organisation: str = required(fields.organisation_id)
    key_id: str = required(fields.key_id)
    reason: str = required(fields.text(200))


@payload_type
class KeyRotated:
    organisation: str = required(fields.organisation_id)
    public_key: str = required(fields.public_key)
    replaces: str = required(fields.key_id)


_REGISTRAR = frozenset({"registrar"})
register(typed(GENESIS_TYPE, _REGISTRAR, LedgerCreated, _create,
               "Genesis: the registrar, its key and the ledger's checkpoint key."))
register(typed("organisation.registered", _REGISTRAR, OrganisationRegistered, _create,
               "The registrar registers an organisation with its first public key."))
register(typed("key.added", _REGISTRAR, KeyAdded, _add_key, "A further key for an organisation."))
register(typed("key.revoked", _REGISTRAR, KeyRevoked, _revoke_key, "A key stops counting from this entry on."))
register(typed("key.rotated", _REGISTRAR, KeyRotated, _rotate_key, "A new key replaces an old one in one entry."))
