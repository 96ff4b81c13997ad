"""`amanah verify` recomputes every award decision the city signed (docs/verifying.md).

The first pass replays the rules, so each `award.decided` entry that stands names criteria in
force and a signed checkpoint of this log; as it goes, it keeps what the award figures read
(ledger/award_trail.py). This check, made only when the log holds a decision, replays that
trail up to the largest checkpoint a decision names, takes the figures of each decision's year
as they stood at its checkpoint (ledger/domain/award_figures.py), applies the ranking rule
(ledger/domain/awards.rank) under the criteria the decision cites, and names every company
whose place differs."""

from __future__ import annotations

import json
from collections.abc import Iterable

from ledger.domain.award_figures import AwardAccumulator
from ledger.domain.award_year import AwardYear, Published
from ledger.domain.awards import criteria_of, decision_differences, rank
from ledger.entry import entry_from_json
from ledger.errors import LedgerError
from ledger.verify import Verifier


def decisions_of(verifier: Verifier) -> list[tuple[Published, Published]]:
    """(decision, the criteria it applied) for every decision the replay accepted, in log order."""
    found = []
    for aggregate in verifier.aggregates.values():
        if isinstance(aggregate, AwardYear):
            criteria = {published.entry: published for published in aggregate.criteria}
            found += [(decision, criteria[decision.payload["criteria_entry"]]) for decision in aggregate.decisions]
    return sorted(found, key=lambda pair: pair[0].entry)


def check_award_decisions(verifier: Verifier) -> None:
    """Recompute each decision's ranking from what the verifier kept of the log as it checked it
    (`verifier.award_trail`); failures go to the verifier's report."""
    decisions = decisions_of(verifier)
    if not decisions:
        return
    wanted: dict[int, set[int]] = {}
    for decision, _ in decisions:
        wanted.setdefault(decision.payload["checkpoint"]["tree_size"], set()).add(decision.payload["year"])
    trail = verifier.award_trail
    stop = min(max(wanted), verifier.report.entries)  # a checkpoint past the log's end: _judge names it
    if trail.unreadable is not None and trail.unreadable[0] < stop:
        position, reason = trail.unreadable
        verifier.fail(position, "award", f"cannot recompute the award figures past entry {position}: {reason}")
        return
    accumulator = AwardAccumulator({year for years in wanted.values() for year in years})
    snapshots: dict[tuple[int, int], list] = {}
    try:
        for size in trail.replay(accumulator, sorted(size for size in wanted if size <= stop)):
            _snapshot(verifier, accumulator, size, wanted[size], snapshots)
    except (LedgerError, LookupError, TypeError, ValueError) as error:
        verifier.fail(trail.position, "award", f"cannot recompute the award figures past entry {trail.position}: "
                      f"{error!r}")
        return
    for decision, criteria in decisions:
        _judge(verifier, decision, criteria, snapshots)


def _snapshot(verifier: Verifier, accumulator: AwardAccumulator, size: int, years: set[int], snapshots: dict) -> None:
    if size not in verifier.checkpoint_roots:
        verifier.fail(size - 1, "award", f"an award decision names the checkpoint of size {size}, which is not "
                      "among this log's verified checkpoints")
        return
    for year in years:
        snapshots[(size, year)] = accumulator.figures(year)


def _judge(verifier: Verifier, decision: Published, criteria: Published, snapshots: dict) -> None:
    payload = decision.payload
    size, year = payload["checkpoint"]["tree_size"], payload["year"]
    figures = snapshots.get((size, year))
    if figures is None:
        verifier.fail(decision.entry, "award", f"the {year} award decision could not be recomputed at checkpoint "
                      f"{size}")
        return
    awarded, reasons = rank(figures, criteria_of(criteria.payload))
    for difference in decision_differences(payload, awarded, reasons):
        verifier.fail(decision.entry, "award", f"the {year} award decision (criteria entry {criteria.entry}, "
                      f"checkpoint {size}) differs from the ranking recomputed from the log: {difference}")


def ranking_at(leaves: Iterable[bytes], size: int, year: int, criteria: dict) -> tuple[list, dict[str, list[str]]]:
    """The ranking `criteria` give `year` from the first `size` leaves of the log: what the
    city signs in a decision at that checkpoint (the verifier recomputes it the same way)."""
    accumulator = AwardAccumulator({year})
    for position, leaf in enumerate(leaves):
        if position >= size:
            break
        accumulator.feed(entry_from_json(json.loads(leaf), leaf))
    return rank(accumulator.figures(year), criteria)
