"""An in-process cache of aggregates, kept true to the log.

Rules need current aggregates; rebuilding 11,860 workers from their events for every monthly
batch grows with history. The cache remembers the log size it is valid at; before each use it
reads which aggregates the entries since then touched (other processes may have written) and
drops those, or brings them forward by those events alone (`sync`'s `bring_forward`: a programme
gains an event with every pledge, receipt and batch, and replaying it whole after each write of
another process grew with its history). Aggregates a failed submission touched are dropped too,
since rules mutate them as they go."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

from ledger import log_store
from ledger.config import DEFAULT_AGGREGATE_CACHE



class AggregateCache:
    def __init__(self, recorder: Any, limit: int = DEFAULT_AGGREGATE_CACHE):
        self.recorder = recorder
        self.limit = limit
        self.aggregates: OrderedDict[UUID, Any] = OrderedDict()
        self.position = 0

    def sync(self, size: int, bring_forward: Callable[[list[Any]], list[Any]] | None = None) -> None:
        """Forget aggregates changed by entries [position, size) that this process did not write,
        but those `bring_forward` returns: it is given them, and returns those it applied every
        later event to (AggregateLoader.bring_forward)."""
        if size < self.position:  # the database was replaced under us
            self.clear()
        # An empty cache holds nothing to forget: a new process (or one whose cache was cleared)
        # must not read which aggregates the whole log touched (2 s at 1,000,000 entries).
        if size > self.position and self.aggregates:
            touched = self.recorder.read(lambda c, d: log_store.select_originators(c, d, self.position, size))
            stale = [aggregate for aggregate in (self.aggregates.pop(UUID(originator), None) for originator in touched)
                     if aggregate is not None]
            if stale and bring_forward is not None:
                self.keep(bring_forward(stale))
        self.position = size

    def get(self, aggregate_id: UUID) -> Any | None:
        aggregate = self.aggregates.get(aggregate_id)
        if aggregate is not None:
            self.aggregates.move_to_end(aggregate_id)
        return aggregate

    def committed(self, aggregates: list[Any], new_size: int) -> None:
        """The submission that changed `aggregates` is stored and the log now holds `new_size`."""
        self.keep(aggregates)
        self.position = new_size

    def keep(self, aggregates: Any) -> None:
        """Remember `aggregates`, each as stored at `position` or later (the next `sync` drops any
        that entries from `position` on changed), the least recently used beyond `limit` dropped."""
        for aggregate in aggregates:
            self.aggregates[aggregate.id] = aggregate
            self.aggregates.move_to_end(aggregate.id)
        while len(self.aggregates) > self.limit:
            self.aggregates.popitem(last=False)

    def discard(self, aggregates: list[Any]) -> None:
        for aggregate in aggregates:
            self.aggregates.pop(aggregate.id, None)

    def clear(self) -> None:
        self.aggregates.clear()
        self.position = 0
