"""The registry of event types: who may emit each, how its payload is checked, how it applies.

Domain modules register their types here; the ledger core knows none of them by name except
genesis. Adding an event type is adding data, not changing the write path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.errors import UnknownEventType

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
