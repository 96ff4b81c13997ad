"""What the users come for, computed from the views: balances, totals, impact statements,
award lists (the reconciliation and the traces are in audit_queries.py). Every function returns
plain JSON values."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, func, select, union
from sqlalchemy.engine import Connection

from ledger.domain.statement_figures import (
    as_decimal, claims_summary, full_year_equivalent_hundredths, full_year_equivalents, fulfilment_percent, join_spans,
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


def total_of(connection: Connection, column, *conditions) -> int:
    """The sum of `column` over the rows that meet `conditions`; 0 for none."""
    return int(connection.execute(select(func.coalesce(func.sum(column), 0)).where(*conditions)).scalar_one())


def live(*conditions):
    """Premium lines that are coverage: neither reversed nor refunded."""
    return and_(t.premiums.c.reversed.is_(False), t.premiums.c.refunded.is_(False), *conditions)


def _count(connection: Connection, statement) -> int:
    return int(connection.execute(statement).scalar_one())


def programme_totals(connection: Connection, year: int | None = None) -> dict:
    """Programme-wide totals with no personal data."""
    programme_filter = t.programmes.c.year == year if year else True
    names = [row.programme for row in connection.execute(select(t.programmes.c.programme).where(programme_filter))]
    live_premiums = live(t.premiums.c.programme.in_(names))
    live_pledges = and_(t.pledges.c.programme.in_(names), t.pledges.c.reversed.is_(False))
    worker_months = _count(connection, select(func.count()).select_from(t.premiums).where(live_premiums))
    return {
        "year": year,
        "programmes": names,
        "companies_invited": _count(connection, select(func.count(func.distinct(t.invitations.c.company))).where(
            t.invitations.c.programme.in_(names))),
        "companies_contributing": _count(connection, select(func.count(func.distinct(t.receipts.c.company))).where(
            t.receipts.c.programme.in_(names), t.receipts.c.reversed.is_(False))),
        "pledged_rupiah": total_of(connection, t.pledges.c.original_rupiah, live_pledges),
        "pledged_current_rupiah": total_of(connection, t.pledges.c.amount_rupiah, live_pledges),
        "received_rupiah": total_of(connection, t.receipts.c.amount_rupiah, t.receipts.c.programme.in_(names),
                                t.receipts.c.reversed.is_(False)),
        "amil_rupiah": total_of(connection, t.amil.c.amount_rupiah, t.amil.c.reversed.is_(False),
                            t.amil.c.receipt.in_(select(t.receipts.c.receipt).where(t.receipts.c.programme.in_(names)))),
        "disbursed_rupiah": total_of(connection, t.disbursements.c.amount_rupiah, t.disbursements.c.programme.in_(names),
                                 t.disbursements.c.reversed.is_(False)),
        "premiums_rupiah": total_of(connection, t.premiums.c.amount_rupiah, live_premiums),
        "premiums_refunded_rupiah": total_of(connection, t.premiums.c.amount_rupiah, t.premiums.c.programme.in_(names),
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
    c = t.company_months.c
    return {company: int(count) for company, count in connection.execute(
        select(c.company, func.sum(c.worker_months)).where(c.month.between(period.first_month, period.last_month))
        .group_by(c.company))}


def _coverage(connection: Connection, company: str, period: Period, *columns) -> list:
    """The company's coverage rows in the period (view_company_months), summed by `columns`."""
    c = t.company_months.c
    return connection.execute(select(*columns, func.sum(c.live_lines), func.sum(c.worker_months),
                                     func.sum(c.funded_rupiah), func.sum(c.refunded_rupiah))
                              .where(c.company == company, c.month.between(period.first_month, period.last_month))
                              .group_by(*columns)).all()


def statement_figures(connection: Connection, company: str, period: Period) -> dict:
    """An impact statement's figures for one company and period (see docs/statements.md); the
    offline verifier computes the same with ledger/domain/statements.py."""
    organisation = _company(connection, company)
    in_period = lambda column: column.between(period.first_day, period.last_day)  # noqa: E731
    receipts = and_(t.receipts.c.company == company, t.receipts.c.reversed.is_(False))
    restricted = total_of(connection, t.postings.c.amount_rupiah, t.postings.c.account == f"baznas:restricted:{company}",
                      t.postings.c.occurred_on <= period.last_day)
    programme_fye, parts = full_year_equivalents(worker_months_by_company(connection, period))
    (_, worker_months, funded, refunded), = _coverage(connection, company, period)  # one row, NULLs for none
    return {
        "company": organisation,
        "period": period.name,
        "from": period.first_day,
        "to": period.last_day,
        **_pledge_figures(connection, company, period),
        "received_rupiah": total_of(connection, t.receipts.c.amount_rupiah, receipts, in_period(t.receipts.c.received_on)),
        "amil_rupiah": total_of(connection, t.amil.c.amount_rupiah, t.amil.c.company == company,
                            t.amil.c.reversed.is_(False), in_period(t.amil.c.occurred_on)),
        "disbursed_rupiah": total_of(connection, t.disbursement_sources.c.amount_rupiah,
                                 t.disbursement_sources.c.company == company,
                                 t.disbursement_sources.c.disbursement.in_(select(t.disbursements.c.disbursement).where(
                                     t.disbursements.c.reversed.is_(False), in_period(t.disbursements.c.made_on)))),
        "unspent_held_rupiah": restricted,
        "premiums_funded_rupiah": int(funded or 0),
        "premiums_refunded_rupiah": int(refunded or 0),
        "worker_months": int(worker_months or 0),
        "full_year_equivalent_workers": parts.get(company, "0.00"),
        "programme_full_year_equivalent_workers": programme_fye,
        "distinct_workers_reached_overlapping": _reached(connection, company, period),
        "by_category": _breakdown(connection, t.company_months.c.category, company, period),
        "by_kelurahan": _breakdown(connection, t.company_months.c.kelurahan, company, period),
        "by_month": _by_month(connection, company, period),
        "claims_paid": _claims_for(connection, company, period),
    }


def _reached(connection: Connection, company: str, period: Period) -> int:
    """Distinct (programme, worker) with a live line in the period that the company paid most of."""
    c = t.company_reach.c
    lines = c.h1 if period.last_month[5:] <= "06" else c.h2 if period.first_month[5:] > "06" else c.h1 + c.h2
    return _count(connection, select(func.count()).where(c.company == company, c.year == period.year, lines > 0))


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
    """Worker-months (as primary funder) and rupiah funded, by a premium attribute, for every
    value with a live line the company paid part of."""
    return {key: {"worker_months": int(worker_months), "premiums_funded_rupiah": int(funded)}
            for key, lines, worker_months, funded, _ in sorted(_coverage(connection, company, period, column))
            if lines}


def _by_month(connection: Connection, company: str, period: Period) -> list[dict]:
    received = defaultdict(int)
    for day, amount in connection.execute(select(t.receipts.c.received_on, t.receipts.c.amount_rupiah).where(
            t.receipts.c.company == company, t.receipts.c.reversed.is_(False),
            t.receipts.c.received_on.between(period.first_day, period.last_day))):
        received[day[:7]] += int(amount)
    coverage = {month: (int(worker_months), int(funded)) for month, _, worker_months, funded, _
                in _coverage(connection, company, period, t.company_months.c.month)}
    return [{"month": month, "received_rupiah": received.get(month, 0),
             "premiums_funded_rupiah": coverage.get(month, (0, 0))[1],
             "worker_months": coverage.get(month, (0, 0))[0]} for month in period.months()]


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
                              .where(live(t.premiums.c.worker == worker, t.premiums.c.month == month))).all()
    return {company: int(amount) for company, amount in rows}


def statement_entries(connection: Connection, company: str, period: Period) -> list[list[int]]:
    """Index ranges of the entries a statement rests on: the company's pledges, receipts, amil,
    the disbursements drawing on them and the premiums they funded in the period. The premiums
    come as the runs `view_funded_ranges` keeps while lines are applied, so a company that funded
    most of a 1M-entry year reads a few hundred rows, not 923,076; the few other entries are
    joined with them here."""
    drawn = select(t.disbursement_sources.c.disbursement).where(t.disbursement_sources.c.company == company)
    singles = union(
        select(t.pledges.c.entry_index.label("entry")).where(t.pledges.c.company == company),
        select(t.receipts.c.entry_index).where(t.receipts.c.company == company),
        select(t.amil.c.entry_index).where(t.amil.c.company == company),
        select(t.disbursements.c.entry_index).where(t.disbursements.c.disbursement.in_(drawn)),
        select(t.premium_batches.c.entry_index).where(t.premium_batches.c.disbursement.in_(drawn)),
    )
    runs = select(t.funded_ranges.c.first_index, t.funded_ranges.c.last_index).where(
        t.funded_ranges.c.company == company, t.funded_ranges.c.month.between(period.first_month, period.last_month))
    return join_spans(sorted([(int(entry), int(entry)) for entry, in connection.execute(singles)]
                             + [(int(first), int(last)) for first, last in connection.execute(runs)]))


def to_ranges(indexes: list[int]) -> list[list[int]]:
    """[1,2,3,7] -> [[1,3],[7,7]]."""
    return join_spans((index, index) for index in indexes)


def organisation_names(connection: Connection) -> dict[str, str]:
    """Every organisation's legal name by its id."""
    return dict(connection.execute(select(t.organisations.c.organisation, t.organisations.c.legal_name)).all())
