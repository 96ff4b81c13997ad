"""The auditor's queries on the views: the reconciliation (what is out of step, and since when)
and the traces of a receipt or a claim through the money flow."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from ledger.errors import NotFound
from projections import tables as t
from projections.queries import funders_of_month, live, total_of


def reconciliation(connection: Connection, as_of: str, undisbursed_days: int = 90) -> list[dict]:
    """Items an auditor must look at, each naming the entries concerned."""
    items: list[dict] = []
    cutoff = (date.fromisoformat(as_of) - timedelta(days=undisbursed_days)).isoformat()
    for row in connection.execute(select(t.receipts).where(t.receipts.c.reversed.is_(False),
                                                           t.receipts.c.received_on <= cutoff)):
        left = row.amount_rupiah - row.amil_rupiah - row.drawn_rupiah
        if left > 0:
            items.append(_item("received-not-disbursed", f"Rp{left:,} of receipt {row.receipt} from {row.company} "
                               f"undisbursed more than {undisbursed_days} days", [row.entry_index], row.company))
    for row in connection.execute(select(t.disbursements).where(t.disbursements.c.reversed.is_(False))):
        if row.acknowledged_index is None:
            items.append(_item("disbursement-not-acknowledged", f"disbursement {row.disbursement} "
                               f"(Rp{row.amount_rupiah:,}) not acknowledged by {row.to_organisation}", [row.entry_index]))
        premiums_total = total_of(connection, t.premiums.c.amount_rupiah, t.premiums.c.disbursement == row.disbursement,
                              t.premiums.c.reversed.is_(False))
        if premiums_total != row.amount_rupiah and row.made_on <= cutoff:
            items.append(_item("disbursement-premiums-mismatch", f"premiums against disbursement {row.disbursement} "
                               f"total Rp{premiums_total:,}, not Rp{row.amount_rupiah:,}", [row.entry_index]))
    enrolled = select(t.workers.c.worker).where(t.workers.c.programme == t.premiums.c.programme,
                                                t.workers.c.worker == t.premiums.c.worker,
                                                t.workers.c.reversed.is_(False)).exists()
    orphan = select(t.premiums.c.entry_index, t.premiums.c.worker).where(~enrolled, t.premiums.c.reversed.is_(False))
    for row in connection.execute(orphan):
        items.append(_item("premium-worker-not-enrolled", f"premium for unenrolled worker {row.worker[:12]}…",
                           [row.entry_index]))
    for claim in connection.execute(select(t.claims).where(t.claims.c.status.in_(("approved", "paid")))):
        if not funders_of_month(connection, claim.worker, claim.incident_on[:7]):
            items.append(_item("claim-outside-coverage", f"claim {claim.claim}: no premium for {claim.incident_on[:7]}",
                               [claim.filed_index]))
        late_paid = claim.status == "paid" and claim.paid_on > claim.deadline_on
        late_open = claim.status == "approved" and as_of > claim.deadline_on
        if late_paid or late_open:
            items.append(_item("claim-paid-late", f"{claim.benefit.upper()} claim {claim.claim}: deadline "
                               f"{claim.deadline_on}, paid {claim.paid_on or 'not yet'}",
                               [claim.filed_index] + ([claim.paid_index] if claim.paid_index else [])))
    items += _deaths_and_jkk(connection)
    for pledge in connection.execute(select(t.pledges, t.programmes.c.ends_on).join(
            t.programmes, t.programmes.c.programme == t.pledges.c.programme).where(
            t.pledges.c.reversed.is_(False), t.pledges.c.cancelled.is_(False))):
        if pledge.ends_on < as_of and pledge.amount_rupiah > pledge.received_rupiah:
            items.append(_item("pledge-not-fulfilled", f"pledge {pledge.pledge} of {pledge.company}: "
                               f"Rp{pledge.amount_rupiah - pledge.received_rupiah:,} not received by "
                               f"{pledge.ends_on}", [pledge.entry_index], pledge.company))
    return items


JKK_DEATH_MONTHS_OF_INCOME = 48  # PP 44/2015; the rules' jkk_death_income_multiple when they state it


def _deaths_and_jkk(connection: Connection) -> list[dict]:
    """Premiums paid for months after a worker's death and not refunded; JKK amounts an auditor
    should look at (a fatal JKK not 48 times the declared income, or above the rules' bound)."""
    items: list[dict] = []
    settled = select(t.claims, t.workers.c.income_rupiah, t.programmes.c.jkk_max_rupiah,
                     t.programmes.c.jkk_death_income_multiple).select_from(
        t.claims.outerjoin(t.workers, and_(t.workers.c.programme == t.claims.c.programme,
                                           t.workers.c.worker == t.claims.c.worker))
        .join(t.programmes, t.programmes.c.programme == t.claims.c.programme)).where(
        t.claims.c.status.in_(("approved", "paid")))
    for claim in connection.execute(settled).all():
        if claim.fatal:
            for premium in connection.execute(select(t.premiums).where(live(
                    t.premiums.c.worker == claim.worker, t.premiums.c.month > claim.incident_on[:7]))
                    .order_by(t.premiums.c.month)):
                items.append(_item("premium-after-death-not-refunded", f"premium for {premium.month} paid for a "
                                   f"worker who died on {claim.incident_on} ({claim.benefit.upper()} claim "
                                   f"{claim.claim}), not refunded", [premium.entry_index, claim.filed_index]))
        if claim.benefit != "jkk":
            continue
        multiple = claim.jkk_death_income_multiple or JKK_DEATH_MONTHS_OF_INCOME
        expected = multiple * int(claim.income_rupiah or 0)
        if claim.fatal and claim.amount_rupiah != expected:
            items.append(_item("jkk-amount-unusual", f"fatal JKK claim {claim.claim}: Rp{claim.amount_rupiah:,}, "
                               f"not {multiple} x the declared income (Rp{expected:,})", [claim.filed_index]))
        if claim.jkk_max_rupiah is not None and claim.amount_rupiah > claim.jkk_max_rupiah:
            items.append(_item("jkk-amount-unusual", f"JKK claim {claim.claim}: Rp{claim.amount_rupiah:,} is above "
                               f"the rules' bound of Rp{claim.jkk_max_rupiah:,}", [claim.filed_index]))
    return items


def _item(kind: str, detail: str, entries: list[int], company: str | None = None) -> dict:
    return {"kind": kind, "detail": detail, "entries": entries, "company": company}


def trace_receipt(connection: Connection, receipt: str) -> dict:
    """Forward: a receipt to the disbursements it funded and every worker-month it paid for."""
    row = connection.execute(select(t.receipts).where(t.receipts.c.receipt == receipt)).first()
    if row is None:
        raise NotFound(f"no receipt {receipt!r}", field="receipt")
    draws = connection.execute(select(t.disbursement_sources).where(t.disbursement_sources.c.receipt == receipt)).all()
    join = t.premium_shares.join(t.premiums, t.premiums.c.entry_index == t.premium_shares.c.entry_index)
    shares = connection.execute(select(t.premiums.c.entry_index, t.premiums.c.worker, t.premiums.c.month,
                                       t.premiums.c.refunded, t.premium_shares.c.amount_rupiah).select_from(join)
                                .where(t.premium_shares.c.receipt == receipt, t.premiums.c.reversed.is_(False))
                                .order_by(t.premiums.c.entry_index)).all()
    return {"receipt": receipt, "company": row.company, "amount_rupiah": row.amount_rupiah, "entry": row.entry_index,
            "amil_rupiah": row.amil_rupiah,
            "disbursements": [{"disbursement": d.disbursement, "amount_rupiah": d.amount_rupiah} for d in draws],
            "premiums_rupiah": sum(int(s.amount_rupiah) for s in shares if not s.refunded),
            "premiums_refunded_rupiah": sum(int(s.amount_rupiah) for s in shares if s.refunded),
            "worker_months": [{"entry": s.entry_index, "worker": s.worker, "month": s.month,
                               "amount_rupiah": int(s.amount_rupiah), "refunded": bool(s.refunded)} for s in shares]}


def trace_claim(connection: Connection, benefit: str, claim: str) -> dict:
    """Backward: a claim to the premium that covered the incident month and the companies that paid it."""
    row = connection.execute(select(t.claims).where(t.claims.c.benefit == benefit, t.claims.c.claim == claim)).first()
    if row is None:
        raise NotFound(f"no {benefit} claim {claim!r}", field="claim")
    premium = connection.execute(select(t.premiums).where(t.premiums.c.worker == row.worker,
                                                          t.premiums.c.month == row.incident_on[:7],
                                                          t.premiums.c.reversed.is_(False))).first()
    shares = [] if premium is None else connection.execute(select(t.premium_shares).where(
        t.premium_shares.c.entry_index == premium.entry_index)).all()
    return {"claim": claim, "benefit": benefit, "status": row.status, "amount_rupiah": row.amount_rupiah,
            "worker": row.worker, "incident_on": row.incident_on, "entries": [row.filed_index] + (
                [row.paid_index] if row.paid_index is not None else []),
            "covering_premium": None if premium is None else {
                "entry": premium.entry_index, "month": premium.month, "amount_rupiah": premium.amount_rupiah,
                "disbursement": premium.disbursement},
            "funded_by": [{"company": s.company, "receipt": s.receipt, "amount_rupiah": s.amount_rupiah} for s in shares]}
