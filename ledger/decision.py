"""The unit of work for one submission: aggregates loaded once, changed in order, saved together."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.domain import OriginatorVersionError
from eventsourcing.utils import get_topic

if TYPE_CHECKING:
    from ledger.domain.batch_work import PremiumBatchWork
    from ledger.entry import LogEntry

A = TypeVar("A")


class Decision:
    """What applying a submission's entries changes; handlers call `get` and `add`. `load`
    returns an aggregate as last stored, or None: a decision needs no storage of its own."""

    def __init__(self, load: Callable[[UUID], Any | None], load_many: Callable[[list[UUID]], dict[UUID, Any]] | None = None):
        self._load = load
        self._load_many = load_many
        self._aggregates: dict[UUID, Any] = {}
        self._missing: set[UUID] = set()
        self._final_checks: dict[str, Callable[[], None]] = {}
        self._recorded: list[RecordedEntry] = []
        self.premium_batch: PremiumBatchWork | None = None  # the submission's batch header, if any
        self.premium_amounts: Callable[[int, int], list[int]] = _no_log  # set by the writer and the verifier
        # The base64 root of the log's signed checkpoint of a size, or None (an award decision names one).
        self.checkpoint_root: Callable[[int], str | None] = _no_checkpoints

    def check_at_end(self, name: str, check: Callable[[], None]) -> None:
        """Run `check` once every entry of the submission was applied (control totals)."""
        self._final_checks.setdefault(name, check)

    def begin_premium_batch(self, work: PremiumBatchWork) -> None:
        """Hold the submission's premium batch; its control totals are checked at the end."""
        assert self.premium_batch is None, "one premium batch per submission"
        self.premium_batch = work
        self.check_at_end("premium_batch", work.check_control_totals)

    def finish(self) -> None:
        """Run the end-of-submission checks; they raise a named error to refuse it whole."""
        for check in self._final_checks.values():
            check()
        self._final_checks.clear()

    def get(self, aggregate_class: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate as changed so far in this submission, or None if it does not exist."""
        aggregate = self._aggregates.get(aggregate_id)  # one lookup: hashing a UUID runs Python code
        if aggregate is None:
            if aggregate_id in self._missing:
                return None
            aggregate = self._load(aggregate_id)
            if aggregate is None:
                return None
            self._aggregates[aggregate_id] = aggregate
        assert isinstance(aggregate, aggregate_class), (aggregate_id, aggregate_class)
        return aggregate

    def prefetch(self, aggregate_ids: list[UUID]) -> None:
        """Load many aggregates in one go (a premium batch names thousands of workers)."""
        wanted = [i for i in dict.fromkeys(aggregate_ids) if i not in self._aggregates and i not in self._missing]
        if not wanted or self._load_many is None:
            return
        found = self._load_many(wanted)
        self._aggregates.update(found)
        self._missing.update(i for i in wanted if i not in found)

    def add(self, aggregate: Any) -> None:
        """A new aggregate created by this submission."""
        assert aggregate.id not in self._aggregates or self._aggregates[aggregate.id] is None
        self._missing.discard(aggregate.id)
        self._aggregates[aggregate.id] = aggregate

    def record(self, aggregate: Any, entry: LogEntry) -> None:
        """Apply a checked entry to `aggregate` as its `Recorded` event, which the writer stores.
        The event is held as what is stored (`RecordedEntry`), not built through the aggregate's
        decorated `record` method: that builds an eventsourcing event object per premium line (its
        argument binding, timestamp and frozen fields) only to keep the entry it already holds.
        The verifier's decision (ledger/verify.py) applies the same change without either.
        An aggregate whose changes are typed events instead (an organisation's `KeyAdded`, ...)
        records its own, so each keeps the topic every existing ledger stores."""
        topic = recorded_topic(type(aggregate))
        if not topic:
            aggregate.record(entry)
            return
        aggregate.apply_recorded(entry)
        version = aggregate.version + 1
        aggregate.version = version
        aggregate.modified_on = entry.recorded_datetime
        self._recorded.append(RecordedEntry(aggregate.id, version, topic, entry))

    def touched(self) -> list[Any]:
        """Every aggregate loaded or created, as changed so far."""
        return [aggregate for aggregate in self._aggregates.values() if aggregate is not None]

    def pending_events(self) -> list[Any]:
        """Every new event, in log order (each carries exactly one entry): the aggregates' own
        (creations and the organisations' typed events) and the recorded entries."""
        events = [event for aggregate in self._aggregates.values()
                  for event in aggregate.collect_events()]
        events += self._recorded
        self._recorded = []
        events.sort(key=_entry_index)
        return events


class RecordedEntry:
    """An aggregate's `Recorded` event as the writer stores it: the aggregate, its new version, the
    event class's topic and the entry (whose leaf is the stored state, ledger/mapper.py). Loading
    it back gives the eventsourcing event (LeafMapper.to_domain_event); `mutate` applies it as
    that event would (the tests' in-memory ledger replays these)."""

    __slots__ = ("originator_id", "originator_version", "topic", "entry")

    def __init__(self, originator_id: UUID, originator_version: int, topic: str, entry: LogEntry):
        self.originator_id = originator_id
        self.originator_version = originator_version
        self.topic = topic
        self.entry = entry

    def mutate(self, aggregate: Any) -> Any:
        """`aggregate` with this event applied; refuses one that does not follow its version (a
        gap in the stored events), as eventsourcing's events do."""
        if aggregate is None or aggregate.version + 1 != self.originator_version:
            raise OriginatorVersionError(f"event {self.originator_version} of {self.originator_id} does not "
                                         f"follow version {None if aggregate is None else aggregate.version}")
        aggregate.apply_recorded(self.entry)
        aggregate.version = self.originator_version
        aggregate.modified_on = self.entry.recorded_datetime
        return aggregate


_TOPICS: dict[type, str] = {}


def recorded_topic(aggregate_class: type) -> str:
    """The topic of the aggregate class's `Recorded` event (what eventsourcing stores and resolves),
    or "" for a class without one (organisations have typed events only)."""
    topic = _TOPICS.get(aggregate_class)
    if topic is None:
        recorded = getattr(aggregate_class, "Recorded", None)
        usable = recorded is not None and hasattr(aggregate_class, "apply_recorded")
        topic = _TOPICS[aggregate_class] = get_topic(recorded) if usable else ""
    return topic


def _entry_index(event: Any) -> int:
    return event.entry.index


def _no_log(start: int, stop: int) -> list[int]:
    raise AssertionError("this decision cannot read premium amounts from the log")


def _no_checkpoints(size: int) -> str | None:
    raise AssertionError("this decision cannot read the log's checkpoints")
