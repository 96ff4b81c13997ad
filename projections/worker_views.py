"""How the worker events change the views: enrolments, premiums paid and refunded, claims and
reversals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from ledger.domain.attribution import primary_funder
from ledger.entry import LogEntry
from projections import tables as t
from projections.money_views import load_batch

if TYPE_CHECKING:
    from projections.projector import Batch


def _worker(batch: Batch, entry: LogEntry) -> None:
    p = entry.payload
    batch.insert(t.workers, {"worker": p["worker"], "programme": p["programme"], "category": p["category"],
                             "kelurahan": p["kelurahan"], "income_rupiah": p["income_rupiah"], "jht": p["jht"],
                             "enrolled_on": p["enrolled_on"], "withdrawn_on": None, "reversed": False,
                             "entry_index": entry.index})
    batch.projector.worker_profiles[(p["programme"], p["worker"])] = (p["category"], p["kelurahan"])


def _membership(payload: dict):
    return (t.workers.c.programme == payload["programme"]) & (t.workers.c.worker == payload["worker"])


def _worker_updated(batch: Batch, entry: LogEntry) -> None:
    p = entry.payload
    values = {name: p[name] for name in ("category", "kelurahan", "income_rupiah", "jht") if name in p}
    if values:
        batch.update(t.workers, _membership(p), **values)
    batch.projector.worker_profiles.pop((p["programme"], p["worker"]), None)


def _worker_withdrawn(batch: Batch, entry: LogEntry) -> None:
    batch.update(t.workers, _membership(entry.payload), withdrawn_on=entry.payload["withdrawn_on"])


PREMIUM_COLUMNS = ("entry_index", "programme", "worker", "month", "disbursement", "batch", "amount_rupiah",
                   "jkk_rupiah", "jkm_rupiah", "jht_rupiah", "category", "kelurahan", "primary_company", "reversed",
                   "refunded")
SHARE_COLUMNS = ("entry_index", "receipt", "company", "amount_rupiah")


def _premium(batch: Batch, entry: LogEntry) -> None:
    p, index = entry.payload, entry.index
    category, kelurahan = _profile(batch, p["programme"], p["worker"])
    load_batch(batch, p["batch"])
    shares = batch.projector.attribution.feed(entry.type, p)
    batch.insert_values(t.premiums, PREMIUM_COLUMNS, (
        index, p["programme"], p["worker"], p["month"], p["disbursement"], p["batch"], p["amount_rupiah"],
        p["jkk_rupiah"], p["jkm_rupiah"], p["jht_rupiah"], category, kelurahan, primary_funder(shares), False, False))
    for receipt, company, share in shares:
        batch.insert_values(t.premium_shares, SHARE_COLUMNS, (index, receipt, company, share))


def _premium_refunded(batch: Batch, entry: LogEntry) -> None:
    """A worker-month refunded after a death: no longer coverage; the line's shares stay, so
    the refund is traced to the companies whose money it returns to."""
    p = entry.payload
    batch.insert(t.premium_refunds, {"entry_index": entry.index, "premium_entry": p["entry"],
                                     "programme": p["programme"], "worker": p["worker"], "month": p["month"],
                                     "amount_rupiah": p["amount_rupiah"], "refunded_on": p["refunded_on"],
                                     "reason_code": p["reason_code"]})
    batch.update(t.premiums, t.premiums.c.entry_index == p["entry"], refunded=True)


def _profile(batch: Batch, programme: str, worker: str) -> tuple[str, str]:
    cache = batch.projector.worker_profiles
    if (programme, worker) not in cache:
        row = batch.scalar(select(t.workers.c.category, t.workers.c.kelurahan).where(
            t.workers.c.programme == programme, t.workers.c.worker == worker))
        cache[(programme, worker)] = (row.category, row.kelurahan)
    return cache[(programme, worker)]


def _claim(batch: Batch, entry: LogEntry) -> None:
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


def _reversal(batch: Batch, entry: LogEntry) -> None:
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


def _reverse_disbursement(batch: Batch, entry: LogEntry) -> None:
    name = entry.payload["reference"]["disbursement"]
    batch.update(t.disbursements, t.disbursements.c.disbursement == name, reversed=True)
    batch.flush()
    for row in batch.connection.execute(select(t.disbursement_sources).where(
            t.disbursement_sources.c.disbursement == name)).all():
        batch.update(t.receipts, t.receipts.c.receipt == row.receipt,
                     drawn_rupiah=t.receipts.c.drawn_rupiah - row.amount_rupiah)
    batch.projector.attribution.feed(entry.type, entry.payload)


def _reverse_claim(batch: Batch, kind: str, reference: dict) -> None:
    """A reversed payment puts the claim back to approved; a reversed approval back to filed."""
    key = (t.claims.c.benefit == reference["benefit"]) & (t.claims.c.claim == reference["claim"])
    if kind == "claim.paid":
        batch.update(t.claims, key, status="approved", paid_on=None, paid_index=None)
    else:
        batch.update(t.claims, key, status="filed", amount_rupiah=None, complete_on=None, deadline_on=None,
                     approved_index=None)


WORKER_HANDLERS = {
    "worker.enrolled": _worker, "worker.updated": _worker_updated, "worker.withdrawn": _worker_withdrawn,
    "premium.paid": _premium, "premium.refunded": _premium_refunded, "claim.filed": _claim,
    "claim.approved": _claim, "claim.paid": _claim, "claim.rejected": _claim, "entry.reversed": _reversal,
}
