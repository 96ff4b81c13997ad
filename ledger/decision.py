"""The unit of work for one submission: aggregates loaded once, changed in order, saved together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

A = TypeVar("A")


class Decision:
    """What applying a submission's entries changes; handlers call `get` and `add`."""

    def __init__(self, load: Callable[[UUID], Any]):
        self._load = load
        self._aggregates: dict[UUID, Any] = {}
        self._final_checks: dict[str, Callable[[], None]] = {}
        self.scratch: dict[str, Any] = {}  # per-submission facts, e.g. a premium batch's header

    def check_at_end(self, name: str, check: Callable[[], None]) -> None:
        """Run `check` once every entry of the submission was applied (control totals)."""
        self._final_checks.setdefault(name, check)

    def finish(self) -> None:
        """Run the end-of-submission checks; they raise a named error to refuse it whole."""
        for check in self._final_checks.values():
            check()
        self._final_checks.clear()

    def get(self, aggregate_class: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate as changed so far in this submission, or None if it does not exist."""
        if aggregate_id not in self._aggregates:
            try:
                self._aggregates[aggregate_id] = self._load(aggregate_id)
            except AggregateNotFoundError:
                return None
        aggregate = self._aggregates[aggregate_id]
        assert isinstance(aggregate, aggregate_class), (aggregate_id, aggregate_class)
        return aggregate

    def add(self, aggregate: Any) -> None:
        """A new aggregate created by this submission."""
        assert aggregate.id not in self._aggregates or self._aggregates[aggregate.id] is None
        self._aggregates[aggregate.id] = aggregate

    def touched(self) -> list[Any]:
        """Every aggregate loaded or created, as changed so far."""
        return [aggregate for aggregate in self._aggregates.values() if aggregate is not None]

    def pending_events(self) -> list[Any]:
        """Every new event, in log order (each carries exactly one entry)."""
        events = [event for aggregate in self._aggregates.values()
                  for event in aggregate.collect_events()]
        events.sort(key=lambda event: event.entry.index)
        return events
