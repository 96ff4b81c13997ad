"""Each company's coverage figures by month, category and kelurahan (`view_company_months`),
kept as premium lines are applied, refunded and reversed: a statement sums a few hundred rows
instead of joining every line it rests on (923,076 at 1M entries; docs/benchmarks.md).

A line counts by its state: live lines are coverage (worker-months for the primary funder, each
funder's share funded), refunded lines count their shares as refunded, reversed lines count for
nothing. A change of state adds the difference, so the rows always equal what summing the lines
by their current state gives (tests/views/test_statement_figures.py, test_random_histories.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from projections import tables as t

KEY = ("company", "month", "category", "kelurahan")
Line = tuple[str, str, str, str, str]  # programme, worker, month, category, kelurahan
FIGURES = ("live_lines", "worker_months", "funded_rupiah", "refunded_rupiah")
Key = tuple[str, str, str, str]


class CoverageDeltas:
    """What a batch of entries adds to `view_company_months` and `view_company_reach`, written
    once at its end."""

    def __init__(self) -> None:
        self.deltas: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        # (company, programme, worker, year) -> live lines as primary funder in [H1, H2]
        self.reach: dict[tuple[str, str, str, int], list[int]] = defaultdict(lambda: [0, 0])

    def line(self, line: Line, shares: Iterable[tuple[str, str, int]], primary: str, state: str,
             sign: int = 1) -> None:
        """Add (sign 1) or take away (sign -1) what one line in `state` counts for."""
        if state == "reversed":
            return
        programme, worker, month, category, kelurahan = line
        if state == "live":
            self.reach[primary, programme, worker, int(month[:4])][month[5:] > "06"] += sign
        deltas, seen = self.deltas, set()
        for _, company, amount in shares:
            row = deltas[company, month, category, kelurahan]
            if state == "live":
                row[2] += sign * amount
                if company not in seen:
                    seen.add(company)
                    row[0] += sign
                    row[1] += sign * (company == primary)
            else:  # refunded
                row[3] += sign * amount

    def change(self, line: Line, shares: list[tuple[str, str, int]], primary: str, before: str,
               after: str) -> None:
        """A line went from state `before` to `after`."""
        self.line(line, shares, primary, before, -1)
        self.line(line, shares, primary, after)

    def write(self, connection: Connection) -> None:
        self._write_months(connection)
        self._write_reach(connection)

    def _write_reach(self, connection: Connection) -> None:
        """One upsert per (company, programme, worker, year) the batch touched."""
        rows = [{"company": company, "programme": programme, "worker": worker, "year": year, "h1": h1, "h2": h2}
                for (company, programme, worker, year), (h1, h2) in self.reach.items()]  # zeros too: see below
        self.reach.clear()
        if not rows:
            return
        table = t.company_reach
        insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(table)
        connection.execute(insert.on_conflict_do_update(
            index_elements=[table.c.company, table.c.programme, table.c.worker, table.c.year],
            set_={"h1": table.c.h1 + insert.excluded.h1, "h2": table.c.h2 + insert.excluded.h2}), rows)

    def _write_months(self, connection: Connection) -> None:
        # Every key a line touched gets its row, even when the batch's changes cancel out (a line
        # paid and reversed in one batch), so any batching gives the same rows as a rebuild.
        changed = dict(self.deltas)
        self.deltas.clear()
        if not changed:
            return
        table, columns = t.company_months, t.company_months.c
        existing: set[Key] = set()
        companies = sorted({key[0] for key in changed})
        months = sorted({key[1] for key in changed})
        for row in connection.execute(select(columns.company, columns.month, columns.category, columns.kelurahan)
                                      .where(columns.company.in_(companies), columns.month.in_(months))):
            key = tuple(row)
            if key in changed:
                existing.add(key)
        new = [dict(zip(KEY + FIGURES, key + tuple(values))) for key, values in changed.items() if key not in existing]
        if new:
            connection.execute(table.insert(), new)
        for key in existing:
            values = changed[key]
            if not any(values):
                continue
            connection.execute(update(table).where(*(getattr(columns, name) == part for name, part in zip(KEY, key)))
                               .values({name: getattr(columns, name) + delta
                                        for name, delta in zip(FIGURES, values) if delta}))


def line_state(reversed_: bool, refunded: bool) -> str:
    return "reversed" if reversed_ else "refunded" if refunded else "live"


def line_of(connection: Connection, index: int):
    """A stored premium line and its shares, for a change of its state."""
    line = connection.execute(select(t.premiums).where(t.premiums.c.entry_index == index)).first()
    shares = [(row.receipt, row.company, int(row.amount_rupiah)) for row in connection.execute(
        select(t.premium_shares).where(t.premium_shares.c.entry_index == index).order_by(t.premium_shares.c.receipt))]
    return line, shares
