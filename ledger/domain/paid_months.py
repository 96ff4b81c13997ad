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
from dataclasses import dataclass, fields
from operator import attrgetter
from sys import intern


@dataclass(slots=True)
class PaidMonth:  # one per worker-month: hundreds of thousands are held at once
    programme: str
    disbursement: str
    batch: str
    amount_rupiah: int
    index: int
    recorded_by: str
    paid_on: str
    header_index: int  # the batch's header: the line's funders follow from the lines between
    reversed: bool = False
    refunded_at: int | None = None

    @property
    def live(self) -> bool:
        return not self.reversed and self.refunded_at is None


PAID = tuple(field.name for field in fields(PaidMonth))
_values = attrgetter(*PAID)
# Strings most months share: interned, so a cache of many workers holds one copy of each.
_INTERNED_AT = tuple(PAID.index(name) for name in ("programme", "disbursement", "batch", "recorded_by", "paid_on"))
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
                for position in _INTERNED_AT:
                    values[position] = intern(values[position])
                months[intern(month_text)] = PaidMonth(*values)
            months.update(self._months)
            self._months = months
            self._encoded = None
            self._standing = frozenset()
        return self._months
