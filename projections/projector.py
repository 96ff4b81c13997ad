"""Applies log entries to the read-model tables, in batches, inside the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from operator import itemgetter
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from ledger.domain.attribution import Attribution, primary_funder
from ledger.domain.postings import Posting, postings
from ledger.entry import LogEntry
from projections import tables as t


class Projector:
    """Turns entries into rows. Caches lookups across batches; `reset()` after a rollback."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        # The attribution rule's state, loaded from the views on demand after a restart.
        self.attribution = Attribution()
        self.worker_profiles: dict[tuple[str, str], tuple[str, str]] = {}  # (programme, worker) -> profile

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
        batch.write_attribution()


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


# ---- handlers, one per event type ---------------------------------------------------------

def _day(entry: LogEntry) -> str:
    return entry.envelope["occurred_at"][:10]


def _organisation(batch: _Batch, entry: LogEntry) -> None:
    payload = entry.payload
    batch.insert(t.organisations, {"organisation": payload["organisation"], "legal_name": payload["legal_name"],
                                   "kind": payload.get("kind", "registrar")})


def _programme(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    batch.insert(t.programmes, {"programme": p["programme"], "name": p["name"], "year": p["year"],
                                "starts_on": p["starts_on"], "ends_on": p["ends_on"], "entry_index": entry.index,
                                "jkk_max_rupiah": _benefit_rule(p.get("rules"), "jkk_max_rupiah"),
                                "jkk_death_income_multiple": _benefit_rule(p.get("rules"), "jkk_death_income_multiple")})


def _benefit_rule(rules: object, name: str) -> int | None:
    """A JKK number of the rules, if they state it (for the auditor's list of unusual amounts)."""
    benefits = rules.get("benefits") if isinstance(rules, dict) else None
    value = benefits.get(name) if isinstance(benefits, dict) else None
    return value if isinstance(value, int) else None


def _invited(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    batch.insert(t.invitations, {"programme": p["programme"], "company": p["company"], "invited_on": p["invited_on"],
                                 "entry_index": entry.index})


def _pledge(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    batch.insert(t.pledges, {"pledge": p["pledge"], "programme": p["programme"], "company": entry.actor,
                             "amount_rupiah": p["amount_rupiah"], "original_rupiah": p["amount_rupiah"],
                             "received_rupiah": 0, "cancelled": False, "cancelled_on": None, "reversed": False,
                             "pledged_on": p.get("pledged_on", _day(entry)), "entry_index": entry.index})


def _pledge_amended(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    batch.insert(t.pledge_amendments, {"entry_index": entry.index, "pledge": p["pledge"], "company": entry.actor,
                                       "kind": "amended", "previous_rupiah": p["previous_rupiah"], "amount_rupiah": p["amount_rupiah"],
                                       "amended_on": _day(entry), "reason": p["reason"]})
    batch.update(t.pledges, t.pledges.c.pledge == p["pledge"], amount_rupiah=p["amount_rupiah"])


def _pledge_cancelled(batch: _Batch, entry: LogEntry) -> None:
    """A cancelled pledge now promises what was received: recorded as a change, like an amendment."""
    p = entry.payload
    previous = batch.scalar(select(t.pledges.c.amount_rupiah).where(t.pledges.c.pledge == p["pledge"])).amount_rupiah
    batch.insert(t.pledge_amendments, {"entry_index": entry.index, "pledge": p["pledge"], "company": entry.actor,
                                       "kind": "cancelled", "previous_rupiah": previous,
                                       "amount_rupiah": previous - p["outstanding_rupiah"], "amended_on": _day(entry),
                                       "reason": p["reason"]})
    batch.update(t.pledges, t.pledges.c.pledge == p["pledge"], cancelled=True, cancelled_on=_day(entry),
                 amount_rupiah=previous - p["outstanding_rupiah"])


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
                          "amount_rupiah": p["amount_rupiah"], "occurred_on": _day(entry), "reversed": False})
    batch.update(t.receipts, t.receipts.c.receipt == p["receipt"],
                 amil_rupiah=t.receipts.c.amil_rupiah + p["amount_rupiah"])


def _disbursement(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    batch.insert(t.disbursements, {"disbursement": p["disbursement"], "programme": p["programme"],
                                   "to_organisation": p["to"], "amount_rupiah": p["amount_rupiah"],
                                   "period": p["period"], "made_on": p["made_on"], "charged_rupiah": 0,
                                   "acknowledged_index": None, "acknowledged_on": None, "reversed": False,
                                   "entry_index": entry.index})
    for source in p["sources"]:
        batch.insert(t.disbursement_sources, {"disbursement": p["disbursement"], "receipt": source["receipt"],
                                              "company": source["company"], "amount_rupiah": source["amount_rupiah"],
                                              "charged_rupiah": 0})
        batch.update(t.receipts, t.receipts.c.receipt == source["receipt"],
                     drawn_rupiah=t.receipts.c.drawn_rupiah + source["amount_rupiah"])
    batch.projector.attribution.feed(entry.type, p)


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
    attribution = batch.projector.attribution
    _load_disbursement(batch, p["disbursement"])
    attribution.feed(entry.type, p)
    if not refund:
        for position, (receipt, company, quota) in enumerate(attribution.quotas[p["batch"]]):
            batch.insert(t.batch_quotas, {"batch": p["batch"], "receipt": receipt, "position": position,
                                          "company": company, "quota_rupiah": quota, "left_rupiah": quota})


def _load_disbursement(batch: _Batch, disbursement: str) -> None:
    """After a restart: the disbursement's sources and what was charged to each, from the views."""
    attribution = batch.projector.attribution
    if disbursement in attribution.sources:
        return
    batch.flush()
    rows = batch.connection.execute(
        select(t.disbursement_sources).where(t.disbursement_sources.c.disbursement == disbursement)
        .order_by(t.disbursement_sources.c.receipt)).all()
    attribution.sources[disbursement] = [(row.receipt, row.company, row.amount_rupiah) for row in rows]
    attribution.charged[disbursement] = [row.charged_rupiah for row in rows]


def _load_batch(batch: _Batch, batch_id: str) -> None:
    """After a restart: what is left of the batch's quotas, from the views."""
    attribution = batch.projector.attribution
    if batch_id in attribution.quotas:
        return
    batch.flush()
    rows = batch.connection.execute(select(t.batch_quotas).where(t.batch_quotas.c.batch == batch_id)
                                    .order_by(t.batch_quotas.c.position)).all()
    attribution.quotas[batch_id] = [[row.receipt, row.company, row.left_rupiah] for row in rows]


def _worker(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    batch.insert(t.workers, {"worker": p["worker"], "programme": p["programme"], "category": p["category"],
                             "kelurahan": p["kelurahan"], "income_rupiah": p["income_rupiah"], "jht": p["jht"],
                             "enrolled_on": p["enrolled_on"], "withdrawn_on": None, "reversed": False,
                             "entry_index": entry.index})
    batch.projector.worker_profiles[(p["programme"], p["worker"])] = (p["category"], p["kelurahan"])


def _membership(payload: dict):
    return (t.workers.c.programme == payload["programme"]) & (t.workers.c.worker == payload["worker"])


def _worker_updated(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    values = {name: p[name] for name in ("category", "kelurahan", "income_rupiah", "jht") if name in p}
    if values:
        batch.update(t.workers, _membership(p), **values)
    batch.projector.worker_profiles.pop((p["programme"], p["worker"]), None)


def _worker_withdrawn(batch: _Batch, entry: LogEntry) -> None:
    batch.update(t.workers, _membership(entry.payload), withdrawn_on=entry.payload["withdrawn_on"])


def _premium(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    category, kelurahan = _profile(batch, p["programme"], p["worker"])
    _load_batch(batch, p["batch"])
    shares = batch.projector.attribution.feed(entry.type, p)
    batch.insert(t.premiums, {"entry_index": entry.index, "programme": p["programme"], "worker": p["worker"],
                              "month": p["month"], "disbursement": p["disbursement"], "batch": p["batch"],
                              "amount_rupiah": p["amount_rupiah"], "jkk_rupiah": p["jkk_rupiah"],
                              "jkm_rupiah": p["jkm_rupiah"], "jht_rupiah": p["jht_rupiah"], "category": category,
                              "kelurahan": kelurahan, "primary_company": primary_funder(shares), "reversed": False,
                              "refunded": False})
    for receipt, company, share in shares:
        batch.insert(t.premium_shares, {"entry_index": entry.index, "receipt": receipt, "company": company,
                                        "amount_rupiah": share})


def _premium_refunded(batch: _Batch, entry: LogEntry) -> None:
    """A worker-month refunded after a death: no longer coverage; the line's shares stay, so
    the refund is traced to the companies whose money it returns to."""
    p = entry.payload
    batch.insert(t.premium_refunds, {"entry_index": entry.index, "premium_entry": p["entry"],
                                     "programme": p["programme"], "worker": p["worker"], "month": p["month"],
                                     "amount_rupiah": p["amount_rupiah"], "refunded_on": p["refunded_on"],
                                     "reason_code": p["reason_code"]})
    batch.update(t.premiums, t.premiums.c.entry_index == p["entry"], refunded=True)


def _profile(batch: _Batch, programme: str, worker: str) -> tuple[str, str]:
    cache = batch.projector.worker_profiles
    if (programme, worker) not in cache:
        row = batch.scalar(select(t.workers.c.category, t.workers.c.kelurahan).where(
            t.workers.c.programme == programme, t.workers.c.worker == worker))
        cache[(programme, worker)] = (row.category, row.kelurahan)
    return cache[(programme, worker)]


def _claim(batch: _Batch, entry: LogEntry) -> None:
    p = entry.payload
    key = (t.claims.c.benefit == p["benefit"]) & (t.claims.c.claim == p["claim"])
    if entry.type == "claim.filed":
        batch.insert(t.claims, {"benefit": p["benefit"], "claim": p["claim"], "programme": p["programme"],
                                "worker": p["worker"], "status": "filed", "incident_on": p["incident_on"],
                                "filed_on": p["filed_on"], "filed_index": entry.index, "amount_rupiah": None,
                                "complete_on": None, "deadline_on": None, "paid_on": None, "paid_index": None,
                                "rejection_reason": None, "fatal": p["benefit"] == "jkm" or bool(p.get("fatal")),
                                "approved_index": None})
    elif entry.type == "claim.approved":
        batch.update(t.claims, key, status="approved", amount_rupiah=p["amount_rupiah"],
                     complete_on=p["complete_on"], deadline_on=p["deadline_on"], approved_index=entry.index)
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
        _reverse_disbursement(batch, entry)
    elif kind == "premium.paid":
        batch.update(t.premiums, t.premiums.c.entry_index == p["entry"], reversed=True)
    elif kind == "worker.enrolled":
        batch.update(t.workers, (t.workers.c.programme == p["programme"]) & (t.workers.c.worker == reference["worker"]),
                     reversed=True)
    elif kind in ("claim.approved", "claim.paid"):
        _reverse_claim(batch, kind, reference)


def _reverse_disbursement(batch: _Batch, entry: LogEntry) -> None:
    name = entry.payload["reference"]["disbursement"]
    batch.update(t.disbursements, t.disbursements.c.disbursement == name, reversed=True)
    batch.flush()
    for row in batch.connection.execute(select(t.disbursement_sources).where(
            t.disbursement_sources.c.disbursement == name)).all():
        batch.update(t.receipts, t.receipts.c.receipt == row.receipt,
                     drawn_rupiah=t.receipts.c.drawn_rupiah - row.amount_rupiah)
    batch.projector.attribution.feed(entry.type, entry.payload)


def _reverse_claim(batch: _Batch, kind: str, reference: dict) -> None:
    """A reversed payment puts the claim back to approved; a reversed approval back to filed."""
    key = (t.claims.c.benefit == reference["benefit"]) & (t.claims.c.claim == reference["claim"])
    if kind == "claim.paid":
        batch.update(t.claims, key, status="approved", paid_on=None, paid_index=None)
    else:
        batch.update(t.claims, key, status="filed", amount_rupiah=None, complete_on=None, deadline_on=None,
                     approved_index=None)


HANDLERS = {
    "ledger.created": _organisation, "organisation.registered": _organisation,
    "programme.opened": _programme, "company.invited": _invited, "pledge.made": _pledge,
    "pledge.amended": _pledge_amended, "pledge.cancelled": _pledge_cancelled, "donation.received": _receipt,
    "amil.set_aside": _amil, "disbursement.made": _disbursement, "disbursement.acknowledged": _acknowledged,
    "premium.batch": _premium_header, "premium.refund": _premium_header, "worker.enrolled": _worker,
    "worker.updated": _worker_updated, "worker.withdrawn": _worker_withdrawn, "premium.paid": _premium,
    "premium.refunded": _premium_refunded, "claim.filed": _claim, "claim.approved": _claim, "claim.paid": _claim,
    "claim.rejected": _claim, "entry.reversed": _reversal,
}
