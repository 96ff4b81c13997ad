"""The registry of event types: who may emit each, how its payload is checked, how it applies.

Domain modules register their types here; the ledger core knows none of them by name except
genesis. Adding an event type is adding data, not changing the write path. A type whose payload
is declared (ledger/payload_types.py) has its check derived from the declaration, and its
entries' payloads decode into that declaration's typed values (`LogEntry.values`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.errors import UnknownEventType
from ledger.payload_types import check_of, decode

if TYPE_CHECKING:
    from ledger.decision import Decision
    from ledger.entry import LogEntry

ORGANISATION_KINDS = ("registrar", "company", "baznas", "bpjs", "city", "auditor")


@dataclass(frozen=True)
class EventType:
    name: str
    emitters: frozenset[str]
    check_payload: Callable[[dict, str], None]
    apply: Callable[[Decision, LogEntry], None]
    description: str = ""
    touches: Callable[[dict], list] | None = None  # aggregate ids to load in bulk before applying
    payload_type: type | None = None  # the payload's declaration, when it has one


def typed(name: str, emitters: frozenset[str], payload_type: type, apply: Callable[[Decision, LogEntry], None],
          description: str, touches: Callable[[dict], list] | None = None) -> EventType:
    """An event type whose payload is declared by `payload_type`: its check is derived from it."""
    return EventType(name, emitters, check_of(payload_type), apply, description, touches, payload_type)


REGISTRY: dict[str, EventType] = {}


def register(event_type: EventType) -> EventType:
    """Add an event type; names are unique."""
    assert event_type.name not in REGISTRY, event_type.name
    assert event_type.emitters <= set(ORGANISATION_KINDS), event_type.emitters
    REGISTRY[event_type.name] = event_type
    return event_type


def lookup(name: str, field: str) -> EventType:
    """The registered type, or UnknownEventType naming the field."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownEventType(f"unknown event type {name!r}", field=field) from None


def payload_values(name: str, payload: dict) -> object:
    """The typed value of a checked payload of type `name` (one whose payload is declared)."""
    payload_type = REGISTRY[name].payload_type
    if payload_type is None:
        raise TypeError(f"{name} payloads are read as dicts: no typed declaration")
    return decode(payload_type, payload)
