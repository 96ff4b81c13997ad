"""The eventsourcing Mapper whose stored state *is* the log entry's canonical bytes, or for a
line of a batch, those bytes less what every line of its submission shares (stored once,
ledger/batch_store.py).

Nothing is serialised twice, and a row edited in the database changes a leaf hash (the leaf is
rebuilt from the rows as they stand), which verification catches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import AggregateCreated
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from ledger.batch_store import compact_state
from ledger.decision import RecordedEntry
from ledger.entry import LogEntry, parse_entry


@dataclass(frozen=True)
class EntryStoredEvent(StoredEvent):
    """A stored event with the entry it stores: the log's append hashes the entry's leaf, which
    the state of a batched line holds only in part (ledger/batch_store.py)."""

    entry: LogEntry


class LeafMapper(Mapper):
    """Stores `event.entry.leaf` as the state (a batched line without what its submission's
    lines share, ledger/batch_store.py); rebuilds the event from it. A RecordedEntry
    (ledger/decision.py) is stored as the `Recorded` event it stands for."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        topic = domain_event.topic if type(domain_event) is RecordedEntry else get_topic(type(domain_event))
        return EntryStoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=topic,
            state=compact_state(domain_event.entry),
            entry=domain_event.entry,
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
