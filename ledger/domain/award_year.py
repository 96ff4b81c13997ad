"""A year's award on the log: the aggregate holding the city's criteria publications and
decisions, and the rules each must meet against what the log holds (registered companies, the
criteria in force, a signed checkpoint of this log, a superseded decision named). The payloads'
shapes and the ranking rule are in awards.py."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.decision import Decision
from ledger.domain.awards import AwardDecided, CriteriaPublished, check_decision, check_published_criteria
from ledger.domain.common import aggregate_uuid, dated, organisation_of_kind
from ledger.entry import LogEntry
from ledger.errors import AlreadyExists, NotFound, RuleViolation
from ledger.event_types import EventType, register

CITY = frozenset({"city"})


def award_uuid(year: int) -> UUID:
    """The aggregate holding a year's criteria and decisions."""
    return aggregate_uuid("award-year", str(year))


# ---- the aggregate -----------------------------------------------------------------------

@dataclass(frozen=True)
class Published:
    entry: int
    actor: str
    payload: dict


class AwardYear(Aggregate):
    """A year's award: every criteria publication and decision, the newest of each in force."""

    @staticmethod
    def create_id(entry: LogEntry) -> UUID:
        return award_uuid(entry.values.year)

    @event("Opened")
    def __init__(self, entry: LogEntry):
        self.year = entry.values.year
        self.criteria: list[Published] = [Published(entry.index, entry.actor, entry.payload)]
        self.decisions: list[Published] = []

    @event("Recorded")
    def record(self, entry: LogEntry) -> None:
        self.apply_recorded(entry)

    def apply_recorded(self, entry: LogEntry) -> None:
        """What `record` changes, without an event object (the verifier's replay)."""
        target = self.criteria if entry.type == "award.criteria_published" else self.decisions
        target.append(Published(entry.index, entry.actor, entry.payload))


def _year(decision: Decision, entry: LogEntry) -> AwardYear | None:
    return decision.get(AwardYear, award_uuid(entry.values.year))


def _publish_criteria(decision: Decision, entry: LogEntry) -> None:
    """Excluded companies must be registered companies."""
    for position, item in enumerate(entry.values.excluded):
        organisation_of_kind(decision, item.company, "company", f"payload.excluded[{position}].company")
    year = _year(decision, entry)
    if year is None:
        decision.add(AwardYear(entry))
    else:
        decision.record(year, entry)


def _decide(decision: Decision, entry: LogEntry) -> None:
    """A decision applies the criteria in force to a signed checkpoint of this log."""
    decided: AwardDecided = entry.values
    year = _year(decision, entry)
    if year is None or not year.criteria:
        raise NotFound(f"the city has published no award criteria for {decided.year}", field="payload.year")
    if decided.criteria_entry != year.criteria[-1].entry:
        raise RuleViolation(f"the criteria in force for {decided.year} are entry {year.criteria[-1].entry}",
                            field="payload.criteria_entry")
    _check_supersedes(year, decided)
    _check_checkpoint(decision, entry)
    for position, item in enumerate(decided.awarded):
        organisation_of_kind(decision, item.company, "company", f"payload.awarded[{position}].company")
    for position, company in enumerate(decided.not_awarded):
        organisation_of_kind(decision, company, "company", f"payload.not_awarded[{position}]")
    tiers = {tier["name"] for tier in year.criteria[-1].payload["tiers"]}  # as published: the views read it so
    for position, item in enumerate(decided.awarded):
        if item.tier not in tiers:
            raise RuleViolation(f"{item.tier!r} is not a tier of the criteria (entry {decided.criteria_entry})",
                                field=f"payload.awarded[{position}].tier")
    decision.record(year, entry)


def _check_supersedes(year: AwardYear, decided: AwardDecided) -> None:
    in_force = year.decisions[-1].entry if year.decisions else None
    if in_force is None and decided.supersedes is not None:
        raise RuleViolation(f"there is no decision for {decided.year} to supersede", field="payload.supersedes")
    if in_force is not None and decided.supersedes != in_force:
        raise AlreadyExists(f"the award for {decided.year} was decided at entry {in_force}: a new decision "
                            f"names it in `supersedes`, with a reason", field="payload.supersedes")


def _check_checkpoint(decision: Decision, entry: LogEntry) -> None:
    checkpoint = entry.values.checkpoint
    size = checkpoint.tree_size
    if size > entry.index:
        raise RuleViolation(f"the checkpoint must be of the log before this entry ({entry.index} entries)",
                            field="payload.checkpoint.tree_size")
    root = decision.checkpoint_root(size)
    if root is None:
        raise NotFound(f"the log has no signed checkpoint of size {size}", field="payload.checkpoint.tree_size")
    if root != checkpoint.root:
        raise RuleViolation(f"the log's checkpoint of size {size} has root {root}",
                            field="payload.checkpoint.root")


register(EventType("award.criteria_published", CITY, check_published_criteria, dated(_publish_criteria),
                   "The city publishes the criteria of its award for a year (the newest are in force).",
                   None, CriteriaPublished))
register(EventType("award.decided", CITY, check_decision, dated(_decide),
                   "The city's award decision: the ranked companies, the criteria entry applied, and the "
                   "checkpoint the ranking was computed at.", None, AwardDecided))
