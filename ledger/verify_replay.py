"""The verifier's replay of the domain: submissions opened and closed (the end-of-submission rules),
aggregates kept as state, never as events, and every entry's double-entry postings, which must
balance with no restricted fund below zero."""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.decision import Decision
from ledger.domain.postings import Posting, is_balanced, postings
from ledger.entry import LogEntry
from ledger.errors import LedgerError

PREMIUM_POSTINGS = ("coverage:premiums", "bpjs:premium_fund")  # debit, credit of premium.paid
GROWTH = 1 << 16  # premium amounts added to the verifier's array at a time (512 KB)
NON_NEGATIVE_ACCOUNTS = ("baznas:restricted:", "bpjs:premium_fund", "baznas:amil", "pledge:outstanding:")


class _Replay(Decision):
    """A decision that keeps the aggregates' state, never their events, so memory does not grow
    with a batch's size: a change is applied by the aggregate's mutator without building the
    event the writer stores, and the events of created aggregates are dropped once applied."""

    def __init__(self, load: Callable[[UUID], Any], premium_amounts: Callable[[int, int], list[int]]):
        super().__init__(load)
        self.premium_amounts = premium_amounts
        self.recent: list[Any] = []

    def get(self, aggregate_class: type, aggregate_id: UUID) -> Any:
        aggregate = super().get(aggregate_class, aggregate_id)
        if aggregate is not None:
            self.recent.append(aggregate)
        return aggregate

    def add(self, aggregate: Any) -> None:
        super().add(aggregate)
        self.recent.append(aggregate)

    def record(self, aggregate: Any, entry: LogEntry) -> None:
        aggregate.apply_recorded(entry)  # the same change as the writer's event, without the object

    def drop_events(self) -> None:
        for aggregate in self.recent:
            aggregate.collect_events()
        self.recent.clear()


@dataclass
class _OpenSubmission:
    actor: str
    idempotency_key: str
    first_index: int
    expected: int
    seen: int = 0


class ReplayChecks:
    """The replay half of `Verifier` (ledger/verify.py): submissions, the rules' state, balances by
    account, and each entry's postings kept for the `entry.reversed` that may undo it (premium
    lines as one integer each)."""

    balances: dict[str, int]
    postings_by_index: dict[int, list[Posting]]
    premium_amounts: array
    aggregates: dict[UUID, Any]

    submissions_seen: set[tuple[str, str]]
    open: _OpenSubmission | None
    decision: _Replay
    checkpoint_root: Callable[[int], str | None]

    def fail(self, index: int | None, check: str, detail: str) -> None:
        raise NotImplementedError

    def _track_submission(self, position: int, entry: LogEntry) -> None:
        envelope = entry.envelope
        size = entry.batch["size"] if isinstance(entry.batch, dict) else 1
        current = self.open
        if current and (current.actor, current.idempotency_key) == (envelope["actor"], envelope["idempotency_key"]) \
                and current.seen < current.expected:
            if envelope["sequence"] != current.seen or size != current.expected:
                self.fail(position, "batch", f"sequence {envelope['sequence']} out of place in its batch")
            current.seen += 1
            return
        self._close_submission(position)
        key = (envelope["actor"], envelope["idempotency_key"])
        if key in self.submissions_seen:
            self.fail(position, "idempotency", f"idempotency key {key[1]!r} of {key[0]} used twice")
        self.submissions_seen.add(key)
        if envelope["sequence"] != 0:
            self.fail(position, "batch", "a submission must start at sequence 0")
        self.open = _OpenSubmission(key[0], key[1], position, size, 1)

    def _close_submission(self, position: int | None) -> None:
        current = self.open
        if current and current.seen != current.expected:
            self.fail(current.first_index, "batch", f"batch of {current.expected} has only "
                      f"{current.seen} entries in the log (stored partly, or entries removed)")
        if current:
            try:
                self.decision.finish()
            except LedgerError as error:
                self.fail(current.first_index, "rules", f"submission: {error}")
            self._commit()
        self.decision = self._new_decision()
        self.open = None

    def _new_decision(self) -> _Replay:
        decision = _Replay(self._load, self._amounts)
        decision.checkpoint_root = lambda size: self.checkpoint_root(size)
        return decision

    def _commit(self) -> None:
        self.decision.pending_events()
        for aggregate in self.decision.touched():
            self.aggregates[aggregate.id] = aggregate

    def _post(self, position: int, entry: LogEntry) -> None:
        """Postings must balance, and no fund may go below zero."""
        if entry.type == "entry.reversed":
            original = self._postings_of(entry.payload["entry"])
            items = [Posting(item.account, -item.amount_rupiah) for item in original]
        else:
            items = postings(entry)
        if entry.type == "premium.paid" and len(items) == 2 and items[0].account == PREMIUM_POSTINGS[0] \
                and items[1].account == PREMIUM_POSTINGS[1] and items[0].amount_rupiah == -items[1].amount_rupiah:
            self._post_premium(position, items[0].amount_rupiah)  # most of the log
            return
        if not is_balanced(items):
            self.fail(position, "postings", "debits and credits differ")
        if items:
            self.postings_by_index[position] = items
        for item in items:
            balance = self.balances.get(item.account, 0) + item.amount_rupiah
            self.balances[item.account] = balance
            if balance < 0 and item.account.startswith(NON_NEGATIVE_ACCOUNTS):
                self.fail(position, "postings", f"{item.account} would go below zero (Rp{balance:,})")

    def _post_premium(self, position: int, amount_rupiah: int) -> None:
        """A premium line's balanced pair, kept as its amount alone (8 bytes)."""
        self._keep_premium_amount(position, amount_rupiah)
        balances = self.balances
        debit, credit = PREMIUM_POSTINGS  # the fund is the credit: it must not go below zero
        balances[debit] = balances.get(debit, 0) + amount_rupiah
        fund = balances[credit] = balances.get(credit, 0) - amount_rupiah
        if fund < 0:
            self.fail(position, "postings", f"{credit} would go below zero (Rp{fund:,})")

    def _keep_premium_amount(self, position: int, amount_rupiah: int) -> None:
        gap = position + 1 - len(self.premium_amounts)
        if gap > 0:  # grown in steps (zeros: not a premium line), not one slot at a time
            self.premium_amounts.extend(array("q", bytes(8 * max(gap, GROWTH))))
        self.premium_amounts[position] = amount_rupiah

    def _postings_of(self, index: int) -> list[Posting]:
        amount = self.premium_amounts[index] if 0 <= index < len(self.premium_amounts) else 0
        if amount:
            return [Posting(PREMIUM_POSTINGS[0], amount), Posting(PREMIUM_POSTINGS[1], -amount)]
        return self.postings_by_index.get(index, [])

    def _amounts(self, start: int, stop: int) -> list[int]:
        return list(self.premium_amounts[start:stop])

    def _load(self, aggregate_id: UUID) -> Any | None:
        return self.aggregates.get(aggregate_id)
