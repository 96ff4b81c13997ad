"""Applies log entries to the read-model tables, in batches, inside the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from operator import itemgetter
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from ledger.domain.attribution import Attribution
from ledger.domain.postings import Posting, postings, reversal_postings
from ledger.entry import LogEntry
from projections import tables as t
from projections.coverage_views import CoverageDeltas
from ledger.domain.reversals import REVERSAL_RULES
from projections.money_views import MONEY_HANDLERS, MONEY_REVERSALS
from projections.worker_views import WORKER_HANDLERS, WORKER_REVERSALS


class Projector:
    """Turns entries into rows. Caches lookups across batches; `reset()` after a rollback."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        # The attribution rule's state, loaded from the views on demand after a restart.
        self.attribution = Attribution()
        self.worker_profiles: dict[tuple[str, str], tuple[str, str]] = {}  # (programme, worker) -> profile
        # (company, month) -> the last stored run of view_funded_ranges, or None for none.
        self.funded_tails: dict[tuple[str, str], tuple[int, int] | None] = {}

    def funded_tail(self, connection: Connection, company: str, month: str) -> tuple[int, int] | None:
        key = (company, month)
        if key not in self.funded_tails:
            row = connection.execute(select(t.funded_ranges.c.first_index, t.funded_ranges.c.last_index).where(
                t.funded_ranges.c.company == company, t.funded_ranges.c.month == month)
                .order_by(t.funded_ranges.c.first_index.desc()).limit(1)).first()
            self.funded_tails[key] = None if row is None else (int(row[0]), int(row[1]))
        return self.funded_tails[key]

    def apply(self, connection: Connection, entries: list[LogEntry]) -> None:
        """Apply `entries` (consecutive, in log order) to the views."""
        batch = Batch(connection, self)
        for entry in entries:
            handler = HANDLERS.get(entry.type)
            if handler is not None:
                handler(batch, entry)
            batch.post(entry)
        batch.end_funded_runs()
        batch.flush()
        batch.coverage.write(connection)
        batch.write_balances()
        batch.write_attribution()


def insert_many(connection: Connection, table: Any, rows: list[dict]) -> None:
    """One executemany straight to the driver: SQLAlchemy's per-row parameter processing was
    a third of a rebuild. Python-side column defaults are filled in here, as SQLAlchemy would."""
    defaults = _scalar_defaults(table)
    present = [column.name for column in table.columns if column.name in rows[0]]
    names = present + [name for name in defaults if name not in rows[0]]
    write_rows(connection, table, tuple(names), _parameters(rows, present, names, defaults))


def write_rows(connection: Connection, table: Any, names: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert `rows`, each a tuple of every column in `names`, in one statement to the driver."""
    schema = (connection.get_execution_options().get("schema_translate_map") or {}).get(None)
    preparer = connection.dialect.identifier_preparer
    target = (preparer.quote_schema(schema) + "." if schema else "") + preparer.quote(table.name)
    columns = ", ".join(preparer.quote(name) for name in names)
    if connection.dialect.name == "postgresql":  # COPY: one stream, not a statement per row
        with connection.connection.cursor() as cursor, cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(f"INSERT INTO {target} ({columns}) VALUES ({', '.join([marker] * len(names))})", rows)


def _parameters(rows: list[dict], present: list[str], names: list[str], defaults: dict[str, Any]) -> list[tuple]:
    filled = tuple(defaults[name] for name in names[len(present):])
    if len(present) > 1 and all(len(row) == len(present) for row in rows):
        take = itemgetter(*present)
        try:  # same number of keys and each present: the same keys
            return [take(row) + filled for row in rows]
        except KeyError:
            pass
    return [tuple(row.get(name, defaults.get(name)) for name in names) for row in rows]


def _scalar_defaults(table: Any) -> dict[str, Any]:
    return {column.name: column.default.arg for column in table.columns
            if column.default is not None and column.default.is_scalar}


POSTING_COLUMNS = ("entry_index", "seq", "account", "amount_rupiah", "occurred_on")
RANGE_COLUMNS = ("company", "month", "first_index", "last_index")


class Batch:
    def __init__(self, connection: Connection, projector: Projector):
        self.connection = connection
        self.projector = projector
        self.inserts: dict[Any, list[dict]] = defaultdict(list)
        self.value_rows: dict[tuple[Any, tuple[str, ...]], list[tuple]] = defaultdict(list)
        self.balance_deltas: dict[str, int] = defaultdict(int)
        self.coverage = CoverageDeltas()
        self.funded_runs: dict[tuple[str, str], list] = {}  # (company, month) -> [first, last, stored?]

    def funded(self, companies, month: str, index: int) -> None:
        """The premium line at `index`, for coverage `month`, drew on `companies`' money: extend
        each one's run of consecutive lines (the stored one too, so any batching gives the same
        rows as a rebuild), or end it and start a new one (view_funded_ranges)."""
        runs = self.funded_runs
        for company in companies:
            run = runs.get((company, month))
            if run is None:
                tail = self.projector.funded_tail(self.connection, company, month)
                run = runs[company, month] = [tail[0], index, True] if tail and tail[1] == index - 1 else \
                    [index, index, False]
            elif run[1] == index - 1:
                run[1] = index
            else:
                self._write_run(company, month, run)
                runs[company, month] = [index, index, False]

    def _write_run(self, company: str, month: str, run: list) -> None:
        first, last, stored = run
        if stored:
            self.connection.execute(update(t.funded_ranges).where(
                t.funded_ranges.c.company == company, t.funded_ranges.c.month == month,
                t.funded_ranges.c.first_index == first).values(last_index=last))
        else:
            self.value_rows[t.funded_ranges, RANGE_COLUMNS].append((company, month, first, last))

    def end_funded_runs(self) -> None:
        for (company, month), run in self.funded_runs.items():
            self._write_run(company, month, run)
            self.projector.funded_tails[company, month] = (run[0], run[1])
        self.funded_runs.clear()

    def insert(self, table: Any, row: dict) -> None:
        self.inserts[table].append(row)

    def insert_values(self, table: Any, names: tuple[str, ...], values: tuple) -> None:
        """`insert` for the rows written once per premium line: a tuple in the order of `names`
        (every column), not a dict (building and unpacking dicts was a fifth of a rebuild)."""
        self.value_rows[table, names].append(values)

    def flush(self) -> None:
        """Write buffered inserts (before any update that may touch them)."""
        for table in t.metadata.sorted_tables:
            rows = self.inserts.pop(table, None)
            if rows:
                insert_many(self.connection, table, rows)
        for (table, names), values in self.value_rows.items():
            if values:
                write_rows(self.connection, table, names, values)
        self.value_rows.clear()

    def update(self, table: Any, where: Any, **values: Any) -> None:
        self.flush()
        self.connection.execute(update(table).where(where).values(**values))

    def scalar(self, statement: Any) -> Any:
        self.flush()
        return self.connection.execute(statement).first()

    def post(self, entry: LogEntry) -> None:
        if entry.type == "entry.reversed":
            items = reversal_postings(self._original_postings(entry.values.entry))
        else:
            items = postings(entry)
        day, index, rows, deltas = entry.envelope["occurred_at"][:10], entry.index, self.value_rows, self.balance_deltas
        for seq, item in enumerate(items):
            rows[t.postings, POSTING_COLUMNS].append((index, seq, item.account, item.amount_rupiah, day))
            deltas[item.account] += item.amount_rupiah

    def _original_postings(self, index: int) -> list[Posting]:
        self.flush()
        rows = self.connection.execute(select(t.postings.c.account, t.postings.c.amount_rupiah)
                                       .where(t.postings.c.entry_index == index)
                                       .order_by(t.postings.c.seq)).all()
        return [Posting(row.account, row.amount_rupiah) for row in rows]

    def write_attribution(self) -> None:
        """Persist the attribution state that changed (charged per source, quotas left), so a
        restart resumes exactly where the rule stood."""
        attribution = self.projector.attribution
        for name in attribution.touched_disbursements:
            for (receipt, _, _), charged in zip(attribution.sources.get(name, ()), attribution.charged.get(name, ()),
                                                strict=True):
                self.connection.execute(update(t.disbursement_sources).where(
                    t.disbursement_sources.c.disbursement == name, t.disbursement_sources.c.receipt == receipt)
                    .values(charged_rupiah=charged))
        for batch_id in attribution.touched_batches:
            for receipt, _, left in attribution.quotas[batch_id]:
                self.connection.execute(update(t.batch_quotas).where(
                    t.batch_quotas.c.batch == batch_id, t.batch_quotas.c.receipt == receipt).values(left_rupiah=left))
        attribution.touched_disbursements.clear()
        attribution.touched_batches.clear()

    def write_balances(self) -> None:
        if not self.balance_deltas:
            return
        accounts = list(self.balance_deltas)
        existing = set()
        for start in range(0, len(accounts), 500):
            chunk = accounts[start:start + 500]
            existing |= {row.account for row in self.connection.execute(
                select(t.balances.c.account).where(t.balances.c.account.in_(chunk)))}
        new_rows = [{"account": a, "amount_rupiah": d} for a, d in self.balance_deltas.items() if a not in existing]
        if new_rows:
            self.connection.execute(t.balances.insert(), new_rows)
        for account in existing:
            self.connection.execute(update(t.balances).where(t.balances.c.account == account)
                                    .values(amount_rupiah=t.balances.c.amount_rupiah + self.balance_deltas[account]))


def _reversal(batch: Batch, entry: LogEntry) -> None:
    REVERSALS[entry.values.reverses](batch, entry)


REVERSALS = {**MONEY_REVERSALS, **WORKER_REVERSALS}  # reversed type -> what its reversal undoes
# Every reversal the rules allow changes the views, so a new one cannot be forgotten here.
assert set(REVERSALS) == set(REVERSAL_RULES), set(REVERSALS) ^ set(REVERSAL_RULES)
HANDLERS = {**MONEY_HANDLERS, **WORKER_HANDLERS, "entry.reversed": _reversal}  # event type -> how it changes the views
