"""A worker's paid months: month text -> PaidMonth, some of them possibly still encoded.

A worker restored from its snapshot (worker_snapshot.py) keeps the months it had paid as the
snapshot's encoded rows and the set of months whose premium stands. A premium line's rules only
ask whether months are covered (the month itself, the months before it for arrears and lapse),
which that set answers; a month's details (refunds, reversals, claims' cover, a withdrawal) decode
every row at once, on first use. So restoring a worker costs the same whatever its history.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from operator import attrgetter
from sys import intern


class PaidBatch:
    """What every line of one premium batch shares, held once for all its months."""

    __slots__ = ("programme", "disbursement", "batch", "recorded_by", "paid_on", "header_index")

    def __init__(self, programme: str, disbursement: str, batch: str, recorded_by: str, paid_on: str,
                 header_index: int):
        self.programme, self.disbursement, self.batch = intern(programme), intern(disbursement), intern(batch)
        self.recorded_by, self.paid_on, self.header_index = intern(recorded_by), intern(paid_on), header_index


# One PaidBatch per premium batch a process has read (a national year has a few thousand
# batches), and one int per premium amount (a few dozen brackets), so a month holds only its own.
# Past the limits a month simply holds its own copy.
_BATCHES: dict[tuple, PaidBatch] = {}
_BATCHES_KEPT = 100_000
_AMOUNTS: dict[int, int] = {}
_AMOUNTS_KEPT = 4096


def shared_amount(amount_rupiah: int) -> int:
    """The same int object for every equal amount (up to a few thousand distinct ones)."""
    kept = _AMOUNTS.get(amount_rupiah)
    if kept is not None:
        return kept
    if len(_AMOUNTS) < _AMOUNTS_KEPT:
        _AMOUNTS[amount_rupiah] = amount_rupiah
    return amount_rupiah


class PaidMonth:  # one per worker-month: millions are held at once by the verifier at 1M entries
    """A month's premium: its amount and entry, and its batch's shared fields (`PaidBatch`), read
    through the same attribute names a dataclass of all ten fields would have: under 120 bytes a
    month, against 152 with every field held per month (tests/unit/test_paid_months.py)."""

    __slots__ = ("_batch", "amount_rupiah", "index", "reversed", "refunded_at")

    def __init__(self, programme: str, disbursement: str, batch: str, amount_rupiah: int, index: int,
                 recorded_by: str, paid_on: str, header_index: int, reversed: bool = False,
                 refunded_at: int | None = None):
        key = (programme, disbursement, batch, recorded_by, paid_on, header_index)
        shared = _BATCHES.get(key)
        if shared is None:
            shared = PaidBatch(*key)
            if len(_BATCHES) < _BATCHES_KEPT:
                _BATCHES[key] = shared
        self._batch = shared
        self.amount_rupiah = shared_amount(amount_rupiah)
        self.index = index
        self.reversed = reversed
        self.refunded_at = refunded_at

    programme = property(lambda self: self._batch.programme)
    disbursement = property(lambda self: self._batch.disbursement)
    batch = property(lambda self: self._batch.batch)
    recorded_by = property(lambda self: self._batch.recorded_by)
    paid_on = property(lambda self: self._batch.paid_on)
    header_index = property(lambda self: self._batch.header_index)

    @property
    def live(self) -> bool:
        return not self.reversed and self.refunded_at is None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PaidMonth):
            return NotImplemented
        return _values(self) == _values(other)

    __hash__ = None  # type: ignore[assignment]  (mutable)

    def __repr__(self) -> str:
        return "PaidMonth(" + ", ".join(f"{name}={value!r}" for name, value in zip(PAID, _values(self))) + ")"


PAID = ("programme", "disbursement", "batch", "amount_rupiah", "index", "recorded_by", "paid_on", "header_index",
        "reversed", "refunded_at")  # the snapshot's row order (worker_snapshot.py), and PaidMonth's arguments
_values = attrgetter(*PAID)
_DECODER = json.JSONDecoder()


class PaidMonths:
    """Month text -> PaidMonth, in the order the months were first paid, like a dict. `encoded`
    is a JSON array of [month, *PaidMonth fields] rows not decoded yet, and `standing` the months
    among them whose premium stands (paid, not reversed or refunded)."""

    __slots__ = ("_months", "_encoded", "_standing")

    def __init__(self, encoded: bytes | None = None, standing: frozenset[str] = frozenset()):
        self._months: dict[str, PaidMonth] = {}
        self._encoded = encoded
        self._standing = standing

    def covered(self, month_text: str) -> bool:
        """Whether a standing premium paid for the month (no row is decoded for it)."""
        paid = self._months.get(month_text)
        if paid is not None:
            return paid.live
        return month_text in self._standing

    def get(self, month_text: str, default: PaidMonth | None = None) -> PaidMonth | None:
        return self._decoded().get(month_text, default)

    def __getitem__(self, month_text: str) -> PaidMonth:
        return self._decoded()[month_text]

    def __setitem__(self, month_text: str, paid: PaidMonth) -> None:
        # A month paid again after its reversal overrides its encoded row; decoding later keeps
        # the month's first place in the order, as a dict would.
        self._months[month_text] = paid

    def __contains__(self, month_text: object) -> bool:
        return month_text in self._decoded()

    def __len__(self) -> int:
        return len(self._decoded())

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PaidMonths):
            return self._decoded() == other._decoded()
        return isinstance(other, dict) and self._decoded() == other

    __hash__ = None  # type: ignore[assignment]  (mutable, like a dict)

    def __repr__(self) -> str:
        return f"PaidMonths({self._decoded()!r})"

    def items(self):
        return self._decoded().items()

    def values(self):
        return self._decoded().values()

    def rows(self) -> tuple[bytes | None, list[tuple], list[str]]:
        """What a snapshot keeps: the rows still encoded (or None), the decoded ones as
        [month, *fields] rows, and every standing month."""
        decoded = [(month_text, *_values(paid)) for month_text, paid in self._months.items()]
        standing = set(self._standing) if self._encoded is not None else set()
        standing.difference_update(self._months)
        standing.update(month_text for month_text, paid in self._months.items() if paid.live)
        return self._encoded, decoded, sorted(standing)

    def _decoded(self) -> dict[str, PaidMonth]:
        encoded = self._encoded
        if encoded is not None:
            months = {}
            for month_text, *values in _DECODER.decode(encoded.decode()):
                months[intern(month_text)] = PaidMonth(*values)
            months.update(self._months)
            self._months = months
            self._encoded = None
            self._standing = frozenset()
        return self._months
