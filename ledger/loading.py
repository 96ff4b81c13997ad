"""Loading aggregates for the rules: from the process's cache, else from a snapshot and the events
after it, else from all their events."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger import snapshot_store, snapshots
from ledger.cache import AggregateCache
from ledger.decision import RecordedEntry, recorded_topic
from ledger.entry import parse_stored_entry

logger = logging.getLogger(__name__)


class AggregateLoader:
    """Reads aggregates as last committed; what it rebuilds is not cached here (the writer keeps
    what a submission touched once it is stored)."""

    def __init__(self, recorder: Any, mapper: Any, cache: AggregateCache):
        self.recorder = recorder
        self.mapper = mapper
        self.cache = cache

    def load_one(self, aggregate_id: UUID, from_store: dict[UUID, int] | None = None) -> Any | None:
        """One aggregate, or None if it has no events."""
        cached = self.cache.get(aggregate_id)
        if cached is not None:
            return cached
        return self.load_many([aggregate_id], from_store).get(aggregate_id)

    def load_many(self, aggregate_ids: list[UUID], from_store: dict[UUID, int] | None = None) -> dict[UUID, Any]:
        """Aggregates from the cache, the rest from their snapshots and the events after them, read
        in one transaction (snapshots first: the events read after are as new or newer). Missing
        ones are left out. `from_store`, if given, gets the version of the snapshot each aggregate
        read from the database started from (0: none), so the writer knows which are due one."""
        result = {}
        for aggregate_id in aggregate_ids:
            cached = self.cache.get(aggregate_id)
            if cached is not None:
                result[aggregate_id] = cached
        wanted = [aggregate_id for aggregate_id in aggregate_ids if aggregate_id not in result]
        if wanted:
            restored, rows = self.recorder.read(lambda cursor, dialect: _read(cursor, dialect, wanted))
            if from_store is not None:
                from_store.update((aggregate_id, aggregate.version) for aggregate_id, aggregate in restored.items())
                from_store.update((aggregate_id, 0) for aggregate_id in wanted if aggregate_id not in restored)
            result.update(self._replay(restored, rows))
        return result

    def bring_forward(self, aggregates: list[Any]) -> list[Any]:
        """Of cached `aggregates` that another process changed, those kept without snapshots
        (programmes, claims: loading one replays all its events) with their events after their
        version applied, read in one query. The others (workers) are left out: they load from their
        snapshot when next needed. If a replay fails (a gap in the stored events), none is kept:
        each then loads afresh when needed, where the same failure is raised."""
        carried = [aggregate for aggregate in aggregates if not snapshots.kept_for(aggregate)]
        if not carried:
            return []
        bounds = [(aggregate.id, aggregate.version) for aggregate in carried]
        rows = self.recorder.read(lambda cursor, dialect: snapshot_store.select_events_after(cursor, dialect, bounds))
        try:
            return list(self._replay({aggregate.id: aggregate for aggregate in carried}, rows).values())
        except Exception as error:  # noqa: BLE001 - a cache: what it cannot bring forward it forgets
            logger.warning("could not bring %s cached aggregates forward (%s); they load afresh", len(carried), error)
            return []

    def _replay(self, restored: dict[UUID, Any], rows: list[tuple[str, int, str, bytes]]) -> dict[UUID, Any]:
        """Each aggregate after its events, each checked to follow the version before (so an event
        missing after a snapshot fails loudly instead of deciding on a gap). A `Recorded` event
        (nearly all: every premium line) is applied as the writer applied it, from its leaf, without
        building eventsourcing's event object (the leaf parsed plainly: it was checked strictly when
        this ledger wrote it); a creation or typed event goes through the mapper."""
        aggregates = dict(restored)
        for originator, version, topic, state in rows:
            aggregate_id = UUID(originator)
            aggregate = aggregates.get(aggregate_id)
            if aggregate is not None and topic == recorded_topic(type(aggregate)):
                event = RecordedEntry(aggregate_id, version, topic, parse_stored_entry(state))
            else:
                event = self.mapper.to_domain_event(StoredEvent(originator_id=aggregate_id, originator_version=version,
                                                                topic=topic, state=state))
            aggregates[aggregate_id] = event.mutate(aggregate)
        return aggregates


def _read(cursor: Any, dialect: Any, aggregate_ids: list[UUID]) -> tuple[dict[UUID, Any], list]:
    """The usable snapshots of `aggregate_ids` and every event after each (all events when none)."""
    restored = {}
    for row in snapshot_store.select(cursor, dialect, aggregate_ids):
        aggregate = snapshots.restore(row)
        if aggregate is not None:
            restored[aggregate.id] = aggregate
    bounds = [(aggregate_id, restored[aggregate_id].version if aggregate_id in restored else 0)
              for aggregate_id in aggregate_ids]
    return restored, snapshot_store.select_events_after(cursor, dialect, bounds)
