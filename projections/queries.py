"""What the users come for, computed from the views: balances, totals, impact statements,
award lists, reconciliation and traces. Every function returns plain JSON values."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from ledger.domain.statements import (
    as_decimal, claims_summary, full_year_equivalent_hundredths, full_year_equivalents, fulfilment_percent,
)
from ledger.errors import NotFound
from projections import tables as t
from projections.periods import Period


def balances(connection: Connection, as_of: str | None = None) -> dict:
    """Every account's balance now, or at the end of `as_of` (YYYY-MM-DD); and the trial balance."""
    if as_of is None:
        rows = connection.execute(select(t.balances.c.account, t.balances.c.amount_rupiah)).all()
    else:
        rows = connection.execute(select(t.postings.c.account, func.sum(t.postings.c.amount_rupiah))
                                  .where(t.postings.c.occurred_on <= as_of).group_by(t.postings.c.account)).all()
    accounts = {account: int(amount) for account, amount in sorted(rows)}
    return {"as_of": as_of, "accounts": accounts, "trial_balance_rupiah": sum(accounts.values())}


def _sum(connection: Connection, column, *conditions) -> int:
    return int(connection.execute(select(func.coalesce(func.sum(column), 0)).where(*conditions)).scalar_one())


def _live(*conditions):
    """Premium lines that are coverage: neither reversed nor refunded."""
    return and_(t.premiums.c.reversed.is_(False), t.premiums.c.refunded.is_(False), *conditions)


def _count(connection: Connection, statement) -> int:
    return int(connection.execute(statement).scalar_one())


def programme_totals(connection: Connection, year: int | None = None) -> dict:
    """Programme-wide totals with no personal data."""
    programme_filter = t.programmes.c.year == year if year else True
    names = [row.programme for row in connection.execute(select(t.programmes.c.programme).where(programme_filter))]
    live_premiums = _live(t.premiums.c.programme.in_(names))
    live_pledges = and_(t.pledges.c.programme.in_(names), t.pledges.c.reversed.is_(False))
    worker_months = _count(connection, select(func.count()).select_from(t.premiums).where(live_premiums))
    return {
        "year": year,
        "programmes": names,
        "companies_invited": _count(connection, select(func.count(func.distinct(t.invitations.c.company))).where(
            t.invitations.c.programme.in_(names))),
        "companies_contributing": _count(connection, select(func.count(func.distinct(t.receipts.c.company))).where(
            t.receipts.c.programme.in_(names), t.receipts.c.reversed.is_(False))),
        "pledged_rupiah": _sum(connection, t.pledges.c.original_rupiah, live_pledges),
        "pledged_current_rupiah": _sum(connection, t.pledges.c.amount_rupiah, live_pledges),
        "received_rupiah": _sum(connection, t.receipts.c.amount_rupiah, t.receipts.c.programme.in_(names),
                                t.receipts.c.reversed.is_(False)),
        "amil_rupiah": _sum(connection, t.amil.c.amount_rupiah, t.amil.c.reversed.is_(False),
                            t.amil.c.receipt.in_(select(t.receipts.c.receipt).where(t.receipts.c.programme.in_(names)))),
        "disbursed_rupiah": _sum(connection, t.disbursements.c.amount_rupiah, t.disbursements.c.programme.in_(names),
                                 t.disbursements.c.reversed.is_(False)),
        "premiums_rupiah": _sum(connection, t.premiums.c.amount_rupiah, live_premiums),
        "premiums_refunded_rupiah": _sum(connection, t.premiums.c.amount_rupiah, t.premiums.c.programme.in_(names),
                                         t.premiums.c.reversed.is_(False), t.premiums.c.refunded.is_(True)),
        "worker_months": worker_months,
        "full_year_equivalent_workers": as_decimal(full_year_equivalent_hundredths(worker_months)),
        # Not additive across companies or programmes' companies: one worker, one count.
        "distinct_workers": _count(connection, select(func.count(func.distinct(t.premiums.c.worker)))
                                   .where(live_premiums)),
        "claims_paid": claims_summary([(row.benefit, int(row.amount_rupiah), bool(row.fatal), int(row.paid_index))
                                       for row in connection.execute(select(t.claims).where(
                                           t.claims.c.programme.in_(names), t.claims.c.status == "paid"))]),
    }


def _company(connection: Connection, company: str) -> dict:
    row = connection.execute(select(t.organisations).where(t.organisations.c.organisation == company)).first()
    if row is None or row.kind != "company":
        raise NotFound(f"no company {company!r}", field="company")
    return {"organisation": row.organisation, "legal_name": row.legal_name}


def worker_months_by_company(connection: Connection, period: Period) -> dict[str, int]:
    """Worker-months in the period by primary funder, every company."""
    months = t.premiums.c.month.between(period.first_month, period.last_month)
    return {company: int(count) for company, count in connection.execute(
        select(t.premiums.c.primary_company, func.count()).where(_live(months)).group_by(t.premiums.c.primary_company))}


def statement_figures(connection: Connection, company: str, period: Period) -> dict:
    """An impact statement's figures for one company and period (see docs/statements.md); the
    offline verifier computes the same with ledger/domain/statements.py."""
    organisation = _company(connection, company)
    in_period = lambda column: column.between(period.first_day, period.last_day)  # noqa: E731
    months = t.premiums.c.month.between(period.first_month, period.last_month)
    receipts = and_(t.receipts.c.company == company, t.receipts.c.reversed.is_(False))
    shares_join = t.premium_shares.join(t.premiums, t.premiums.c.entry_index == t.premium_shares.c.entry_index)
    own_shares = and_(t.premium_shares.c.company == company, months)
    primary = _live(t.premiums.c.primary_company == company, months)
    restricted = _sum(connection, t.postings.c.amount_rupiah, t.postings.c.account == f"baznas:restricted:{company}",
                      t.postings.c.occurred_on <= period.last_day)
    programme_fye, parts = full_year_equivalents(worker_months_by_company(connection, period))
    return {
        "company": organisation,
        "period": period.name,
        "from": period.first_day,
        "to": period.last_day,
        **_pledge_figures(connection, company, period),
        "received_rupiah": _sum(connection, t.receipts.c.amount_rupiah, receipts, in_period(t.receipts.c.received_on)),
        "amil_rupiah": _sum(connection, t.amil.c.amount_rupiah, t.amil.c.company == company,
                            t.amil.c.reversed.is_(False), in_period(t.amil.c.occurred_on)),
        "disbursed_rupiah": _sum(connection, t.disbursement_sources.c.amount_rupiah,
                                 t.disbursement_sources.c.company == company,
                                 t.disbursement_sources.c.disbursement.in_(select(t.disbursements.c.disbursement).where(
                                     t.disbursements.c.reversed.is_(False), in_period(t.disbursements.c.made_on)))),
        "unspent_held_rupiah": restricted,
        "premiums_funded_rupiah": _count(connection, select(func.coalesce(func.sum(
            t.premium_shares.c.amount_rupiah), 0)).select_from(shares_join).where(_live(own_shares))),
        "premiums_refunded_rupiah": _count(connection, select(func.coalesce(func.sum(
            t.premium_shares.c.amount_rupiah), 0)).select_from(shares_join).where(
            own_shares, t.premiums.c.reversed.is_(False), t.premiums.c.refunded.is_(True))),
        "worker_months": _count(connection, select(func.count()).select_from(t.premiums).where(primary)),
        "full_year_equivalent_workers": parts.get(company, "0.00"),
        "programme_full_year_equivalent_workers": programme_fye,
        "distinct_workers_reached_overlapping": _count(connection, select(func.count()).select_from(
            select(t.premiums.c.programme, t.premiums.c.worker).where(primary).distinct().subquery())),
        "by_category": _breakdown(connection, t.premiums.c.category, company, period),
        "by_kelurahan": _breakdown(connection, t.premiums.c.kelurahan, company, period),
        "by_month": _by_month(connection, company, period),
        "claims_paid": _claims_for(connection, company, period),
    }


def _pledge_figures(connection: Connection, company: str, period: Period) -> dict:
    """The company's pledges for the period's programme year: as first made (fulfilment is
    measured against this), as amended, and each change with its date and reason."""
    rows = connection.execute(select(t.pledges).where(
        t.pledges.c.company == company, t.pledges.c.reversed.is_(False), t.pledges.c.pledged_on <= period.last_day,
        t.pledges.c.programme.in_(select(t.programmes.c.programme).where(t.programmes.c.year == period.year)))).all()
    changes = connection.execute(select(t.pledge_amendments).where(
        t.pledge_amendments.c.pledge.in_([row.pledge for row in rows])).order_by(t.pledge_amendments.c.entry_index))
    original = sum(int(row.original_rupiah) for row in rows)
    return {
        "pledged_rupiah": original,
        "pledged_current_rupiah": sum(int(row.amount_rupiah) for row in rows),
        "pledge_fulfilment_percent": fulfilment_percent(sum(int(row.received_rupiah) for row in rows), original),
        "pledge_changes": [{"pledge": change.pledge, "kind": change.kind, "on": change.amended_on,
                            "previous_rupiah": int(change.previous_rupiah), "amount_rupiah": int(change.amount_rupiah),
                            "reason": change.reason, "entry": int(change.entry_index)} for change in changes],
        "pledge_outstanding_rupiah": sum(max(int(row.amount_rupiah) - int(row.received_rupiah), 0)
                                         for row in rows if not row.cancelled),
    }


def _breakdown(connection: Connection, column, company: str, period: Period) -> dict:
    """Worker-months (as primary funder) and rupiah funded, by a premium attribute."""
    result: dict[str, dict] = defaultdict(lambda: {"worker_months": 0, "premiums_funded_rupiah": 0})
    months = t.premiums.c.month.between(period.first_month, period.last_month)
    for key, count in connection.execute(select(column, func.count()).where(
            _live(t.premiums.c.primary_company == company, months)).group_by(column)):
        result[key]["worker_months"] = int(count)
    join = t.premium_shares.join(t.premiums, t.premiums.c.entry_index == t.premium_shares.c.entry_index)
    for key, amount in connection.execute(select(column, func.sum(t.premium_shares.c.amount_rupiah)).select_from(join)
                                          .where(_live(t.premium_shares.c.company == company, months))
                                          .group_by(column)):
        result[key]["premiums_funded_rupiah"] = int(amount)
    return dict(sorted(result.items()))


def _by_month(connection: Connection, company: str, period: Period) -> list[dict]:
    received = defaultdict(int)
    for day, amount in connection.execute(select(t.receipts.c.received_on, t.receipts.c.amount_rupiah).where(
            t.receipts.c.company == company, t.receipts.c.reversed.is_(False),
            t.receipts.c.received_on.between(period.first_day, period.last_day))):
        received[day[:7]] += int(amount)
    join = t.premium_shares.join(t.premiums, t.premiums.c.entry_index == t.premium_shares.c.entry_index)
    funded = dict(connection.execute(select(t.premiums.c.month, func.sum(t.premium_shares.c.amount_rupiah))
                                     .select_from(join).where(_live(t.premium_shares.c.company == company))
                                     .group_by(t.premiums.c.month)).all())
    months = dict(connection.execute(select(t.premiums.c.month, func.count()).where(
        _live(t.premiums.c.primary_company == company)).group_by(t.premiums.c.month)).all())
    return [{"month": month, "received_rupiah": received.get(month, 0),
             "premiums_funded_rupiah": int(funded.get(month, 0)), "worker_months": int(months.get(month, 0))}
            for month in period.months()]


def _claims_for(connection: Connection, company: str, period: Period) -> dict:
    """Claims paid in the period whose incident-month coverage the company helped fund."""
    rows = connection.execute(select(t.claims).where(t.claims.c.status == "paid",
                                                     t.claims.c.paid_on.between(period.first_day, period.last_day))).all()
    return claims_summary([(claim.benefit, int(claim.amount_rupiah), bool(claim.fatal), int(claim.paid_index))
                           for claim in rows
                           if company in funders_of_month(connection, claim.worker, claim.incident_on[:7])])


def funders_of_month(connection: Connection, worker: str, month: str) -> dict[str, int]:
    """Companies whose money paid a worker's premium for `month`, with their rupiah share."""
    join = t.premium_shares.join(t.premiums, t.premiums.c.entry_index == t.premium_shares.c.entry_index)
    rows = connection.execute(select(t.premium_shares.c.company, t.premium_shares.c.amount_rupiah).select_from(join)
                              .where(_live(t.premiums.c.worker == worker, t.premiums.c.month == month))).all()
    return {company: int(amount) for company, amount in rows}


def statement_entries(connection: Connection, company: str, period: Period) -> list[list[int]]:
    """Index ranges of the entries a statement rests on: the company's pledges, receipts, amil,
    the disbursements drawing on them and the premiums they funded."""
    indexes: set[int] = set()
    indexes |= {row[0] for row in connection.execute(select(t.pledges.c.entry_index).where(t.pledges.c.company == company))}
    indexes |= {row[0] for row in connection.execute(select(t.receipts.c.entry_index).where(t.receipts.c.company == company))}
    indexes |= {row[0] for row in connection.execute(select(t.amil.c.entry_index).where(t.amil.c.company == company))}
    indexes |= {row[0] for row in connection.execute(
        select(t.disbursements.c.entry_index).where(t.disbursements.c.disbursement.in_(
            select(t.disbursement_sources.c.disbursement).where(t.disbursement_sources.c.company == company))))}
    indexes |= {row[0] for row in connection.execute(
        select(t.premium_batches.c.entry_index).where(t.premium_batches.c.disbursement.in_(
            select(t.disbursement_sources.c.disbursement).where(t.disbursement_sources.c.company == company))))}
    join = t.premium_shares.join(t.premiums, t.premiums.c.entry_index == t.premium_shares.c.entry_index)
    indexes |= {row[0] for row in connection.execute(select(t.premiums.c.entry_index).select_from(join).where(
        t.premium_shares.c.company == company, t.premiums.c.month.between(period.first_month, period.last_month)))}
    return to_ranges(sorted(indexes))


def to_ranges(indexes: list[int]) -> list[list[int]]:
    """[1,2,3,7] -> [[1,3],[7,7]]."""
    ranges: list[list[int]] = []
    for index in indexes:
        if ranges and ranges[-1][1] == index - 1:
            ranges[-1][1] = index
        else:
            ranges.append([index, index])
    return ranges


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
        premiums_total = _sum(connection, t.premiums.c.amount_rupiah, t.premiums.c.disbursement == row.disbursement,
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
            for premium in connection.execute(select(t.premiums).where(_live(
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


def organisation_names(connection: Connection) -> dict[str, str]:
    """Every organisation's legal name by its id."""
    return dict(connection.execute(select(t.organisations.c.organisation, t.organisations.c.legal_name)).all())
