"""Applies log entries to the read-model tables, in batches, inside the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from operator import itemgetter
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from ledger.domain.postings import Posting, postings
from ledger.entry import LogEntry
from projections import tables as t
from projections.allocation import largest_remainder


class Projector:
    """Turns entries into rows. Caches lookups across batches; `reset()` after a rollback."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sources: dict[str, list[tuple[str, str, int]]] = {}
        self.worker_profiles: dict[str, tuple[str, str]] = {}
        self.quotas: dict[str, list[list]] = {}  # batch -> [[receipt, company, left], ...]

    def apply(self, connection: Connection, entries: list[LogEntry]) -> None:
        """Apply `entries` (consecutive, in log order) to the views."""
        batch = _Batch(connection, self)
        for entry in entries:
            handler = HANDLERS.get(entry.type)
            if handler is not None:
                handler(batch, entry)
            batch.post(entry)
        batch.flush()
        batch.write_balances()
        batch.write_quotas()


def insert_many(connection: Connection, table: Any, rows: list[dict]) -> None:
    """One executemany straight to the driver: SQLAlchemy's per-row parameter processing was
    a third of a rebuild. Python-side column defaults are filled in here, as SQLAlchemy would."""
    defaults = _scalar_defaults(table)
    present = [column.name for column in table.columns if column.name in rows[0]]
    names = present + [name for name in defaults if name not in rows[0]]
    schema = (connection.get_execution_options().get("schema_translate_map") or {}).get(None)
    preparer = connection.dialect.identifier_preparer
    target = (preparer.quote_schema(schema) + "." if schema else "") + preparer.quote(table.name)
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {target} ({', '.join(preparer.quote(name) for name in names)}) "
           f"VALUES ({', '.join([marker] * len(names))})")
    connection.exec_driver_sql(sql, _parameters(rows, present, names, defaults))


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


class _Batch:
    def __init__(self, connection: Connection, projector: Projector):
        self.connection = connection
        self.projector = projector
        self.inserts: dict[Any, list[dict]] = defaultdict(list)
        self.balance_deltas: dict[str, int] = defaultdict(int)
        self.touched_quotas: set[str] = set()

    def insert(self, table: Any, row: dict) -> None:
        self.inserts[table].append(row)

    def flush(self) -> None:
        """Write buffered inserts (before any update that may touch them)."""
        for table in t.metadata.sorted_tables:
            rows = self.inserts.pop(table, None)
            if rows:
                insert_many(self.connection, table, rows)

    def update(self, table: Any, where: Any, **values: Any) -> None:
        self.flush()
        self.connection.execute(update(table).where(where).values(**values))

    def scalar(self, statement: Any) -> Any:
        self.flush()
        return self.connection.execute(statement).first()

    def post(self, entry: LogEntry) -> None:
        if entry.type == "entry.reversed":
            row_list = self._original_postings(entry.payload["entry"])
            items = [Posting(account, -amount) for account, amount in row_list]
        else:
            items = postings(entry)
        day = entry.envelope["occurred_at"][:10]
        for seq, item in enumerate(items):
            self.insert(t.postings, {"entry_index": entry.index, "seq": seq, "account": item.account,
                                     "amount_rupiah": item.amount_rupiah, "occurred_on": day})
            self.balance_deltas[item.account] += item.amount_rupiah

    def _original_postings(self, index: int) -> list[tuple[str, int]]:
        self.flush()
        rows = self.connection.execute(select(t.postings.c.account, t.postings.c.amount_rupiah)
                                       .where(t.postings.c.entry_index == index)
                                       .order_by(t.postings.c.seq)).all()
        return [(row.account, row.amount_rupiah) for row in rows]

    def write_quotas(self) -> None:
        """Persist what is left of each touched batch's quotas, so a restart resumes exactly."""
        for batch_id in self.touched_quotas:
            for receipt, _, left in self.projector.quotas[batch_id]:
                self.connection.execute(update(t.batch_quotas).where(
                    t.batch_quotas.c.batch == batch_id, t.batch_quotas.c.receipt == receipt).values(left_rupiah=left))

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


# ---- handlers, one per event type ---------------------------------------------------------

def _organisation(batch: _Batch, entry: LogEntry) -> None:
    payload = entry.payload
    batch.insert(t.organisations, {"organisation": payload["organisation"], "legal_name": payload["legal_name"],
                                   "kind": payload.get("kind", "registrar")})


def _programme(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    batch.insert(t.programmes, {"programme": p["programme"], "name": p["name"], "year": p["year"],
                                "starts_on": p["starts_on"], "ends_on": p["ends_on"], "entry_index": entry.index})


def _pledge(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    batch.insert(t.pledges, {"pledge": p["pledge"], "programme": p["programme"], "company": entry.actor,
                             "amount_rupiah": p["amount_rupiah"], "received_rupiah": 0, "cancelled": False,
                             "reversed": False, "pledged_on": p.get("pledged_on", entry.envelope["occurred_at"][:10]),
                             "entry_index": entry.index})


def _pledge_amended(batch: _Batch, entry: LogEntry) -> None:
    batch.update(t.pledges, t.pledges.c.pledge == entry.payload["pledge"], amount_rupiah=entry.payload["amount_rupiah"])


def _pledge_cancelled(batch: _Batch, entry: LogEntry) -> None:
    batch.update(t.pledges, t.pledges.c.pledge == entry.payload["pledge"], cancelled=True)


def _receipt(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    batch.insert(t.receipts, {"receipt": p["receipt"], "programme": p["programme"], "company": p["company"],
                              "amount_rupiah": p["amount_rupiah"], "fund_type": p["fund_type"],
                              "pledge": p.get("pledge"), "received_on": p["received_on"], "amil_rupiah": 0,
                              "drawn_rupiah": 0, "reversed": False, "entry_index": entry.index})
    if p.get("pledge"):
        batch.update(t.pledges, t.pledges.c.pledge == p["pledge"],
                     received_rupiah=t.pledges.c.received_rupiah + p["amount_rupiah"])


def _amil(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    batch.insert(t.amil, {"entry_index": entry.index, "receipt": p["receipt"], "company": p["company"],
                          "amount_rupiah": p["amount_rupiah"], "occurred_on": entry.envelope["occurred_at"][:10],
                          "reversed": False})
    batch.update(t.receipts, t.receipts.c.receipt == p["receipt"],
                 amil_rupiah=t.receipts.c.amil_rupiah + p["amount_rupiah"])


def _disbursement(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    batch.insert(t.disbursements, {"disbursement": p["disbursement"], "programme": p["programme"],
                                   "to_organisation": p["to"], "amount_rupiah": p["amount_rupiah"],
                                   "period": p["period"], "made_on": p["made_on"], "charged_rupiah": 0,
                                   "acknowledged_index": None, "acknowledged_on": None, "reversed": False,
                                   "entry_index": entry.index})
    sources = [(s["receipt"], s["company"], s["amount_rupiah"]) for s in p["sources"]]
    for receipt, company, amount in sources:
        batch.insert(t.disbursement_sources, {"disbursement": p["disbursement"], "receipt": receipt,
                                              "company": company, "amount_rupiah": amount})
        batch.update(t.receipts, t.receipts.c.receipt == receipt, drawn_rupiah=t.receipts.c.drawn_rupiah + amount)
    batch.projector.sources[p["disbursement"]] = sorted(sources)  # the order _sources() reads them in


def _acknowledged(batch: _Batch, entry: LogEntry) -> None:
    batch.update(t.disbursements, t.disbursements.c.disbursement == entry.payload["disbursement"],
                 acknowledged_index=entry.index, acknowledged_on=entry.payload["received_on"])


def _premium_header(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    refund = entry.type == "premium.refund"
    batch.insert(t.premium_batches, {"batch": p["batch"], "disbursement": p["disbursement"],
                                     "month": p.get("month"), "lines": p["lines"], "total_rupiah": p["total_rupiah"],
                                     "refund": refund, "entry_index": entry.index})
    change = -p["total_rupiah"] if refund else p["total_rupiah"]
    batch.update(t.disbursements, t.disbursements.c.disbursement == p["disbursement"],
                 charged_rupiah=t.disbursements.c.charged_rupiah + change)
    if not refund:
        _set_quotas(batch, p["batch"], p["disbursement"], p["total_rupiah"])


def _set_quotas(batch: _Batch, batch_id: str, disbursement: str, total: int) -> None:
    """Split the batch's total among the disbursement's sources pro rata to what each has
    left (largest remainder): each company's share of every batch is exact in rupiah."""
    sources = _sources(batch, disbursement)
    join = t.premium_shares.join(t.premiums, t.premiums.c.entry_index == t.premium_shares.c.entry_index)
    used = dict(batch.connection.execute(
        select(t.premium_shares.c.receipt, func.sum(t.premium_shares.c.amount_rupiah)).select_from(join)
        .where(t.premiums.c.disbursement == disbursement, t.premiums.c.reversed.is_(False))
        .group_by(t.premium_shares.c.receipt)).all())
    capacity = [max(amount - int(used.get(receipt, 0)), 0) for receipt, _, amount in sources]
    quotas = largest_remainder(total, capacity) if sum(capacity) else [0] * len(sources)
    batch.projector.quotas[batch_id] = [[receipt, company, quota] for (receipt, company, _), quota
                                        in zip(sources, quotas, strict=True)]
    for position, ((receipt, company, _), quota) in enumerate(zip(sources, quotas, strict=True)):
        batch.insert(t.batch_quotas, {"batch": batch_id, "receipt": receipt, "position": position,
                                      "company": company, "quota_rupiah": quota, "left_rupiah": quota})
    batch.touched_quotas.add(batch_id)


def _worker(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    batch.insert(t.workers, {"worker": p["worker"], "programme": p["programme"], "category": p["category"],
                             "kelurahan": p["kelurahan"], "income_rupiah": p["income_rupiah"], "jht": p["jht"],
                             "enrolled_on": p["enrolled_on"], "withdrawn_on": None, "reversed": False,
                             "entry_index": entry.index})
    batch.projector.worker_profiles[p["worker"]] = (p["category"], p["kelurahan"])


def _worker_updated(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    values = {name: p[name] for name in ("category", "kelurahan", "income_rupiah", "jht") if name in p}
    if values:
        batch.update(t.workers, t.workers.c.worker == p["worker"], **values)
    batch.projector.worker_profiles.pop(p["worker"], None)


def _worker_withdrawn(batch: _Batch, entry: LogEntry) -> None:
    batch.update(t.workers, t.workers.c.worker == entry.payload["worker"], withdrawn_on=entry.payload["withdrawn_on"])


def _premium(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    category, kelurahan = _profile(batch, p["worker"])
    shares = _take(batch, p["batch"], p["amount_rupiah"])
    primary = max(range(len(shares)), key=lambda position: (shares[position][2], -position))
    batch.insert(t.premiums, {"entry_index": entry.index, "programme": p["programme"], "worker": p["worker"],
                              "month": p["month"], "disbursement": p["disbursement"], "batch": p["batch"],
                              "amount_rupiah": p["amount_rupiah"], "jkk_rupiah": p["jkk_rupiah"],
                              "jkm_rupiah": p["jkm_rupiah"], "jht_rupiah": p["jht_rupiah"], "category": category,
                              "kelurahan": kelurahan, "primary_company": shares[primary][1], "reversed": False})
    for receipt, company, share in shares:
        batch.insert(t.premium_shares, {"entry_index": entry.index, "receipt": receipt, "company": company,
                                        "amount_rupiah": share})


def _take(batch: _Batch, batch_id: str, amount: int) -> list[tuple[str, str, int]]:
    """Fund one premium line from the batch's quotas in source order: whole worker-months go
    to one company, a line at a boundary is split between two."""
    quotas = batch.projector.quotas.get(batch_id)
    if quotas is None:  # after a restart: resume from the persisted quotas
        batch.flush()
        rows = batch.connection.execute(select(t.batch_quotas).where(t.batch_quotas.c.batch == batch_id)
                                        .order_by(t.batch_quotas.c.position)).all()
        quotas = batch.projector.quotas[batch_id] = [[row.receipt, row.company, row.left_rupiah] for row in rows]
    batch.touched_quotas.add(batch_id)
    shares, left = [], amount
    for quota in quotas:
        if left == 0:
            break
        take = min(left, quota[2])
        if take:
            shares.append((quota[0], quota[1], take))
            quota[2] -= take
            left -= take
    assert left == 0, f"premium line exceeds the quotas of batch {batch_id}"
    return shares


def _profile(batch: _Batch, worker: str) -> tuple[str, str]:
    cache = batch.projector.worker_profiles
    if worker not in cache:
        row = batch.scalar(select(t.workers.c.category, t.workers.c.kelurahan).where(t.workers.c.worker == worker))
        cache[worker] = (row.category, row.kelurahan)
    return cache[worker]


def _sources(batch: _Batch, disbursement: str) -> list[tuple[str, str, int]]:
    cache = batch.projector.sources
    if disbursement not in cache:
        batch.flush()
        rows = batch.connection.execute(
            select(t.disbursement_sources).where(t.disbursement_sources.c.disbursement == disbursement)
            .order_by(t.disbursement_sources.c.receipt)).all()
        cache[disbursement] = [(row.receipt, row.company, row.amount_rupiah) for row in rows]
    return cache[disbursement]


def _claim(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    key = (t.claims.c.benefit == p["benefit"]) & (t.claims.c.claim == p["claim"])
    if entry.type == "claim.filed":
        batch.insert(t.claims, {"benefit": p["benefit"], "claim": p["claim"], "programme": p["programme"],
                                "worker": p["worker"], "status": "filed", "incident_on": p["incident_on"],
                                "filed_on": p["filed_on"], "filed_index": entry.index, "amount_rupiah": None,
                                "complete_on": None, "deadline_on": None, "paid_on": None, "paid_index": None,
                                "rejection_reason": None})
    elif entry.type == "claim.approved":
        batch.update(t.claims, key, status="approved", amount_rupiah=p["amount_rupiah"],
                     complete_on=p["complete_on"], deadline_on=p["deadline_on"])
    elif entry.type == "claim.paid":
        batch.update(t.claims, key, status="paid", paid_on=p["paid_on"], paid_index=entry.index)
    else:
        batch.update(t.claims, key, status="rejected", rejection_reason=p["reason"])


def _reversal(batch: _Batch, entry: LogEntry) -> None:
    p, reference = entry.payload, entry.payload["reference"]
    kind = p["reverses"]
    if kind == "pledge.made":
        batch.update(t.pledges, t.pledges.c.pledge == reference["pledge"], reversed=True)
    elif kind == "donation.received":
        row = batch.scalar(select(t.receipts).where(t.receipts.c.receipt == reference["receipt"]))
        batch.update(t.receipts, t.receipts.c.receipt == reference["receipt"], reversed=True)
        if row.pledge:
            batch.update(t.pledges, t.pledges.c.pledge == row.pledge,
                         received_rupiah=t.pledges.c.received_rupiah - row.amount_rupiah)
    elif kind == "amil.set_aside":
        row = batch.scalar(select(t.amil).where(t.amil.c.entry_index == p["entry"]))
        batch.update(t.amil, t.amil.c.entry_index == p["entry"], reversed=True)
        batch.update(t.receipts, t.receipts.c.receipt == row.receipt,
                     amil_rupiah=t.receipts.c.amil_rupiah - row.amount_rupiah)
    elif kind == "disbursement.made":
        batch.update(t.disbursements, t.disbursements.c.disbursement == reference["disbursement"], reversed=True)
        for receipt, _, amount in _sources(batch, reference["disbursement"]):
            batch.update(t.receipts, t.receipts.c.receipt == receipt, drawn_rupiah=t.receipts.c.drawn_rupiah - amount)
    elif kind == "premium.paid":
        batch.update(t.premiums, t.premiums.c.entry_index == p["entry"], reversed=True)
    elif kind == "worker.enrolled":
        batch.update(t.workers, t.workers.c.worker == reference["worker"], reversed=True)


HANDLERS = {
    "ledger.created": _organisation, "organisation.registered": _organisation,
    "programme.opened": _programme, "pledge.made": _pledge, "pledge.amended": _pledge_amended,
    "pledge.cancelled": _pledge_cancelled, "donation.received": _receipt, "amil.set_aside": _amil,
    "disbursement.made": _disbursement, "disbursement.acknowledged": _acknowledged,
    "premium.batch": _premium_header, "premium.refund": _premium_header, "worker.enrolled": _worker,
    "worker.updated": _worker_updated, "worker.withdrawn": _worker_withdrawn, "premium.paid": _premium,
    "claim.filed": _claim, "claim.approved": _claim, "claim.paid": _claim, "claim.rejected": _claim,
    "entry.reversed": _reversal,
}
