"""How the worker events change the views: enrolments, premiums paid and refunded, claims and
reversals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from ledger.domain.attribution import primary_funder
from ledger.domain.claims_state import CLAIM_REVERSALS, ClaimState, next_claim_state
from ledger.domain.worker_payloads import PROFILE
from ledger.entry import LogEntry
from projections import tables as t
from projections.coverage_views import line_of, line_state
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
    values = {name: p[name] for name in PROFILE if name in p}  # what worker.updated may change
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
    primary = primary_funder(shares)
    batch.insert_values(t.premiums, PREMIUM_COLUMNS, (
        index, p["programme"], p["worker"], p["month"], p["disbursement"], p["batch"], p["amount_rupiah"],
        p["jkk_rupiah"], p["jkm_rupiah"], p["jht_rupiah"], category, kelurahan, primary, False, False))
    batch.coverage.line((p["programme"], p["worker"], p["month"], category, kelurahan), shares, primary, "live")
    for receipt, company, share in shares:
        batch.insert_values(t.premium_shares, SHARE_COLUMNS, (index, receipt, company, share))
    batch.funded(dict.fromkeys(company for _, company, _ in shares), p["month"], index)


def _premium_refunded(batch: Batch, entry: LogEntry) -> None:
    """A worker-month refunded after a death: no longer coverage; the line's shares stay, so
    the refund is traced to the companies whose money it returns to."""
    p = entry.payload
    batch.insert(t.premium_refunds, {"entry_index": entry.index, "premium_entry": p["entry"],
                                     "programme": p["programme"], "worker": p["worker"], "month": p["month"],
                                     "amount_rupiah": p["amount_rupiah"], "refunded_on": p["refunded_on"],
                                     "reason_code": p["reason_code"]})
    _line_changes(batch, p["entry"], refunded=True)


def _profile(batch: Batch, programme: str, worker: str) -> tuple[str, str]:
    cache = batch.projector.worker_profiles
    if (programme, worker) not in cache:
        row = batch.scalar(select(t.workers.c.category, t.workers.c.kelurahan).where(
            t.workers.c.programme == programme, t.workers.c.worker == worker))
        cache[(programme, worker)] = (row.category, row.kelurahan)
    return cache[(programme, worker)]


def _claim(batch: Batch, entry: LogEntry) -> None:
    """A claim event, or the reversal of one, moves the claim's row as the kernel moves its
    state (`next_claim_state`): the views hold no claim rule of their own."""
    named = entry.values.reference if entry.type == "entry.reversed" else entry.values
    key = (t.claims.c.benefit == named.benefit) & (t.claims.c.claim == named.claim)
    if entry.type == "claim.filed":
        state = next_claim_state(None, entry)
        batch.insert(t.claims, {"benefit": state.benefit, "claim": state.claim_id, "programme": state.programme,
                                "worker": state.worker, "incident_on": state.incident_on, "filed_on": state.filed_on,
                                "filed_index": state.filed_at, "fatal": state.fatal, **_claim_columns(state)})
        return
    row = batch.scalar(select(t.claims).where(key))
    batch.update(t.claims, key, **_claim_columns(next_claim_state(_claim_state(row), entry)))


def _claim_state(row) -> ClaimState:
    """A claim's state as its row holds it (who decided it is not a view's concern)."""
    return ClaimState(row.claim, row.worker, row.programme, row.benefit, row.fatal, row.incident_on, row.filed_on,
                      row.filed_index, row.status, approved_rupiah=row.amount_rupiah, approved_at=row.approved_index,
                      complete_on=row.complete_on, deadline_on=row.deadline_on, paid_on=row.paid_on,
                      paid_at=row.paid_index, rejection_reason=row.rejection_reason)


def _claim_columns(state: ClaimState) -> dict:
    """The row's columns that claim events change."""
    return {"status": state.status, "amount_rupiah": state.approved_rupiah, "complete_on": state.complete_on,
            "deadline_on": state.deadline_on, "paid_on": state.paid_on, "paid_index": state.paid_at,
            "rejection_reason": state.rejection_reason, "approved_index": state.approved_at}


def _premium_reversed(batch: Batch, entry: LogEntry) -> None:
    _line_changes(batch, entry.values.entry, reversed=True)


def _line_changes(batch: Batch, index: int, **flags: bool) -> None:
    """A premium line refunded or reversed: its row's flag, and what it counts for by company."""
    batch.flush()
    line, shares = line_of(batch.connection, index)
    before = line_state(line.reversed, line.refunded)
    after = line_state(flags.get("reversed", line.reversed), flags.get("refunded", line.refunded))
    batch.coverage.change((line.programme, line.worker, line.month, line.category, line.kelurahan), shares,
                          line.primary_company, before, after)
    batch.update(t.premiums, t.premiums.c.entry_index == index, **flags)


def _enrolment_reversed(batch: Batch, entry: LogEntry) -> None:
    batch.update(t.workers, _membership({"programme": entry.values.programme,
                                         "worker": entry.values.reference.worker}), reversed=True)


WORKER_HANDLERS = {
    "worker.enrolled": _worker, "worker.updated": _worker_updated, "worker.withdrawn": _worker_withdrawn,
    "premium.paid": _premium, "premium.refunded": _premium_refunded, "claim.filed": _claim,
    "claim.approved": _claim, "claim.paid": _claim, "claim.rejected": _claim,
}
# What `entry.reversed` undoes in these views, by the type it reverses (beside the domain's
# `_WORKER_REVERSALS`; the claims' through the kernel's `CLAIM_REVERSALS`).
WORKER_REVERSALS = {"premium.paid": _premium_reversed, "worker.enrolled": _enrolment_reversed,
                    **{kind: _claim for kind in CLAIM_REVERSALS}}
