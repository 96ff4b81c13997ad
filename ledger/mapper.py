"""The eventsourcing Mapper whose stored state *is* the log entry's canonical bytes.

A stored event and a Merkle leaf are then the same bytes: nothing is serialised twice, and a
row edited in the database changes a leaf hash, which verification catches.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import AggregateCreated
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from ledger.decision import RecordedEntry
from ledger.entry import parse_entry


class LeafMapper(Mapper):
    """Stores `event.entry.leaf` as the state; rebuilds the event from the leaf. A RecordedEntry
    (ledger/decision.py) is stored as the `Recorded` event it stands for."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        topic = domain_event.topic if type(domain_event) is RecordedEntry else get_topic(type(domain_event))
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=topic,
            state=domain_event.entry.leaf,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = resolve_topic(stored_event.topic)
        entry = parse_entry(stored_event.state)
        state: dict[str, Any] = {
            "originator_id": stored_event.originator_id,
            "originator_version": stored_event.originator_version,
            "timestamp": entry.recorded_datetime,
            "entry": entry,
        }
        if issubclass(cls, AggregateCreated):
            outer = cls.__qualname__.rsplit(".", 1)[0]
            state["originator_topic"] = f"{cls.__module__}:{outer}"
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event
