"""How the money events change the views: organisations, the programme, pledges, receipts, the
amil share, disbursements and premium batch headers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from ledger.domain.programme import pledged_on
from ledger.entry import LogEntry
from ledger.organisations import organisation_kind
from projections import tables as t

if TYPE_CHECKING:
    from projections.projector import Batch


def _day(entry: LogEntry) -> str:
    return entry.envelope["occurred_at"][:10]


def _organisation(batch: Batch, entry: LogEntry) -> None:
    registered = entry.values
    batch.insert(t.organisations, {"organisation": registered.organisation, "legal_name": registered.legal_name,
                                   "kind": organisation_kind(registered)})


def _programme(batch: Batch, entry: LogEntry) -> None:
    p = entry.values
    batch.insert(t.programmes, {"programme": p.programme, "name": p.name, "year": p.year,
                                "starts_on": p.starts_on, "ends_on": p.ends_on, "entry_index": entry.index,
                                "jkk_max_rupiah": _benefit_rule(p.rules, "jkk_max_rupiah"),
                                "jkk_death_income_multiple": _benefit_rule(p.rules, "jkk_death_income_multiple")})


def _benefit_rule(rules: object, name: str) -> int | None:
    """A JKK number of the rules, if they state it (for the auditor's list of unusual amounts)."""
    benefits = rules.get("benefits") if isinstance(rules, dict) else None
    value = benefits.get(name) if isinstance(benefits, dict) else None
    return value if isinstance(value, int) else None


def _invited(batch: Batch, entry: LogEntry) -> None:
    p = entry.values
    batch.insert(t.invitations, {"programme": p.programme, "company": p.company, "invited_on": p.invited_on,
                                 "entry_index": entry.index})


def _pledge(batch: Batch, entry: LogEntry) -> None:
    p = entry.values
    batch.insert(t.pledges, {"pledge": p.pledge, "programme": p.programme, "company": entry.actor,
                             "amount_rupiah": p.amount_rupiah, "original_rupiah": p.amount_rupiah,
                             "received_rupiah": 0, "cancelled": False, "cancelled_on": None, "reversed": False,
                             "pledged_on": pledged_on(entry), "entry_index": entry.index})


def _pledge_amended(batch: Batch, entry: LogEntry) -> None:
    p = entry.values
    batch.insert(t.pledge_amendments, {"entry_index": entry.index, "pledge": p.pledge, "company": entry.actor,
                                       "kind": "amended", "previous_rupiah": p.previous_rupiah, "amount_rupiah": p.amount_rupiah,
                                       "amended_on": _day(entry), "reason": p.reason})
    batch.update(t.pledges, t.pledges.c.pledge == p.pledge, amount_rupiah=p.amount_rupiah)


def _pledge_cancelled(batch: Batch, entry: LogEntry) -> None:
    """A cancelled pledge now promises what was received: recorded as a change, like an amendment."""
    p = entry.values
    previous = batch.scalar(select(t.pledges.c.amount_rupiah).where(t.pledges.c.pledge == p.pledge)).amount_rupiah
    batch.insert(t.pledge_amendments, {"entry_index": entry.index, "pledge": p.pledge, "company": entry.actor,
                                       "kind": "cancelled", "previous_rupiah": previous,
                                       "amount_rupiah": previous - p.outstanding_rupiah, "amended_on": _day(entry),
                                       "reason": p.reason})
    batch.update(t.pledges, t.pledges.c.pledge == p.pledge, cancelled=True, cancelled_on=_day(entry),
                 amount_rupiah=previous - p.outstanding_rupiah)


def _receipt(batch: Batch, entry: LogEntry) -> None:
    p = entry.values
    batch.insert(t.receipts, {"receipt": p.receipt, "programme": p.programme, "company": p.company,
                              "amount_rupiah": p.amount_rupiah, "fund_type": p.fund_type,
                              "pledge": p.pledge, "received_on": p.received_on, "amil_rupiah": 0,
                              "drawn_rupiah": 0, "reversed": False, "entry_index": entry.index})
    if p.pledge:
        batch.update(t.pledges, t.pledges.c.pledge == p.pledge,
                     received_rupiah=t.pledges.c.received_rupiah + p.amount_rupiah)


def _amil(batch: Batch, entry: LogEntry) -> None:
    p = entry.values
    batch.insert(t.amil, {"entry_index": entry.index, "receipt": p.receipt, "company": p.company,
                          "amount_rupiah": p.amount_rupiah, "occurred_on": _day(entry), "reversed": False})
    batch.update(t.receipts, t.receipts.c.receipt == p.receipt,
                 amil_rupiah=t.receipts.c.amil_rupiah + p.amount_rupiah)


def _disbursement(batch: Batch, entry: LogEntry) -> None:
    p = entry.values
    batch.insert(t.disbursements, {"disbursement": p.disbursement, "programme": p.programme,
                                   "to_organisation": p.to, "amount_rupiah": p.amount_rupiah,
                                   "period": p.period, "made_on": p.made_on, "charged_rupiah": 0,
                                   "acknowledged_index": None, "acknowledged_on": None, "reversed": False,
                                   "entry_index": entry.index})
    for source in p.sources:
        batch.insert(t.disbursement_sources, {"disbursement": p.disbursement, "receipt": source.receipt,
                                              "company": source.company, "amount_rupiah": source.amount_rupiah,
                                              "charged_rupiah": 0})
        batch.update(t.receipts, t.receipts.c.receipt == source.receipt,
                     drawn_rupiah=t.receipts.c.drawn_rupiah + source.amount_rupiah)
    batch.projector.attribution.feed(entry.type, entry.payload)


def _acknowledged(batch: Batch, entry: LogEntry) -> None:
    batch.update(t.disbursements, t.disbursements.c.disbursement == entry.values.disbursement,
                 acknowledged_index=entry.index, acknowledged_on=entry.values.received_on)


def _premium_header(batch: Batch, entry: LogEntry) -> None:
    p = entry.values
    refund = entry.type == "premium.refund"
    batch.insert(t.premium_batches, {"batch": p.batch, "disbursement": p.disbursement,
                                     "month": getattr(p, "month", None), "lines": p.lines, "total_rupiah": p.total_rupiah,
                                     "refund": refund, "entry_index": entry.index})
    change = -p.total_rupiah if refund else p.total_rupiah
    batch.update(t.disbursements, t.disbursements.c.disbursement == p.disbursement,
                 charged_rupiah=t.disbursements.c.charged_rupiah + change)
    attribution = batch.projector.attribution
    _load_disbursement(batch, p.disbursement)
    attribution.feed(entry.type, entry.payload)
    if not refund:
        for position, (receipt, company, quota) in enumerate(attribution.quotas[p.batch]):
            batch.insert(t.batch_quotas, {"batch": p.batch, "receipt": receipt, "position": position,
                                          "company": company, "quota_rupiah": quota, "left_rupiah": quota})


def _load_disbursement(batch: Batch, disbursement: str) -> None:
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


def load_batch(batch: Batch, batch_id: str) -> None:
    """After a restart: what is left of the batch's quotas, from the views."""
    attribution = batch.projector.attribution
    if batch_id in attribution.quotas:
        return
    batch.flush()
    rows = batch.connection.execute(select(t.batch_quotas).where(t.batch_quotas.c.batch == batch_id)
                                    .order_by(t.batch_quotas.c.position)).all()
    attribution.quotas[batch_id] = [[row.receipt, row.company, row.left_rupiah] for row in rows]


def _pledge_reversed(batch: Batch, entry: LogEntry) -> None:
    batch.update(t.pledges, t.pledges.c.pledge == entry.values.reference.pledge, reversed=True)


def _receipt_reversed(batch: Batch, entry: LogEntry) -> None:
    receipt = entry.values.reference.receipt
    row = batch.scalar(select(t.receipts).where(t.receipts.c.receipt == receipt))
    batch.update(t.receipts, t.receipts.c.receipt == receipt, reversed=True)
    if row.pledge:
        batch.update(t.pledges, t.pledges.c.pledge == row.pledge,
                     received_rupiah=t.pledges.c.received_rupiah - row.amount_rupiah)


def _amil_reversed(batch: Batch, entry: LogEntry) -> None:
    index = entry.values.entry
    row = batch.scalar(select(t.amil).where(t.amil.c.entry_index == index))
    batch.update(t.amil, t.amil.c.entry_index == index, reversed=True)
    batch.update(t.receipts, t.receipts.c.receipt == row.receipt,
                 amil_rupiah=t.receipts.c.amil_rupiah - row.amount_rupiah)


def _disbursement_reversed(batch: Batch, entry: LogEntry) -> None:
    name = entry.values.reference.disbursement
    batch.update(t.disbursements, t.disbursements.c.disbursement == name, reversed=True)
    batch.flush()
    for row in batch.connection.execute(select(t.disbursement_sources).where(
            t.disbursement_sources.c.disbursement == name)).all():
        batch.update(t.receipts, t.receipts.c.receipt == row.receipt,
                     drawn_rupiah=t.receipts.c.drawn_rupiah - row.amount_rupiah)
    batch.projector.attribution.feed(entry.type, entry.payload)


MONEY_HANDLERS = {
    "ledger.created": _organisation, "organisation.registered": _organisation, "programme.opened": _programme,
    "company.invited": _invited, "pledge.made": _pledge, "pledge.amended": _pledge_amended,
    "pledge.cancelled": _pledge_cancelled, "donation.received": _receipt, "amil.set_aside": _amil,
    "disbursement.made": _disbursement, "disbursement.acknowledged": _acknowledged,
    "premium.batch": _premium_header, "premium.refund": _premium_header,
}
# What `entry.reversed` undoes in these views, by the type it reverses (beside the domain's
# `programme._REVERSALS`).
MONEY_REVERSALS = {"pledge.made": _pledge_reversed, "donation.received": _receipt_reversed,
                   "amil.set_aside": _amil_reversed, "disbursement.made": _disbursement_reversed}
