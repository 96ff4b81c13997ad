"""The city's annual award list. It accounts for every company the city invited: awarded;
contributed but not awarded (with the reasons); invited but did not contribute. By default a
company whose pledge was not fulfilled, or with an open reconciliation item, is not awarded.

Pledge fulfilment for the award is measured against the pledge as it stood before the
programme's last month: the pledge as first made, changed only by amendments (or a
cancellation) dated before that month. An amendment in the last month, when the shortfall is
already known, does not turn a shortfall into an award."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ledger.domain.awards import DEFAULT_CRITERIA, AwardFigures, rank

from projections import tables as t
from projections.periods import parse_period
from projections.audit_queries import reconciliation
from projections.queries import organisation_names, statement_figures

def award_list(connection: Connection, year: int, criteria: dict | None = None, as_of: str | None = None) -> dict:
    """Every invited or contributing company for `year`, in one of three lists, ranked by the
    one ranking rule (ledger/domain/awards.rank) under `criteria` (the defaults where None)."""
    criteria = {**DEFAULT_CRITERIA, **(criteria or {})}
    period = parse_period(str(year))
    programmes = select(t.programmes.c.programme).where(t.programmes.c.year == year)
    contributors = sorted({row.company for row in connection.execute(select(t.receipts.c.company).where(
        t.receipts.c.reversed.is_(False), t.receipts.c.received_on.between(period.first_day, period.last_day)))})
    invited = {row.company: row.invited_on for row in connection.execute(
        select(t.invitations.c.company, t.invitations.c.invited_on).where(t.invitations.c.programme.in_(programmes)))}
    open_items = reconciliation(connection, as_of or period.last_day)
    rows = {company: _row(connection, company, period, open_items, invited.get(company)) for company in contributors}
    awarded, reasons = rank([row.pop("figures") for row in rows.values()], criteria)
    listed = [{**rows[item.company], "rank": item.rank, "tier": item.tier} for item in awarded]
    separate = [{**rows[company], "reasons": reasons[company]} for company in sorted(reasons)]
    names = organisation_names(connection)
    absent = [{"company": company, "legal_name": names.get(company, company), "invited_on": invited[company]}
              for company in sorted(set(invited) - set(contributors))]
    return {"year": year, "criteria": criteria, "awarded": listed, "not_awarded": separate,
            "invited_not_contributing": absent, "companies_invited": len(invited),
            "companies_contributing": len(rows)}


def _row(connection: Connection, company: str, period, open_items: list[dict], invited_on: str | None) -> dict:
    figures = statement_figures(connection, company, period)
    basis, received = _award_basis(connection, company, period)
    ranked = AwardFigures(company, figures["received_rupiah"], figures["worker_months"],
                          figures["premiums_funded_rupiah"], basis, received,
                          tuple(item["detail"] for item in open_items if item["company"] == company))
    return {"company": company, "legal_name": figures["company"]["legal_name"], "invited_on": invited_on,
            "received_rupiah": figures["received_rupiah"], "pledged_rupiah": figures["pledged_rupiah"],
            "pledged_current_rupiah": figures["pledged_current_rupiah"], "award_pledge_basis_rupiah": basis,
            "pledge_fulfilment_percent": ranked.pledge_fulfilment_percent, "pledge_changes": figures["pledge_changes"],
            "worker_months": figures["worker_months"],
            "full_year_equivalent_workers": figures["full_year_equivalent_workers"],
            "premiums_funded_rupiah": figures["premiums_funded_rupiah"], "figures": ranked}


def _award_basis(connection: Connection, company: str, period) -> tuple[int, int]:
    """(the year's pledges as they stood before the programme's last month, received against them)."""
    rows = connection.execute(select(t.pledges, t.programmes.c.ends_on).join(
        t.programmes, t.programmes.c.programme == t.pledges.c.programme).where(
        t.pledges.c.company == company, t.pledges.c.reversed.is_(False), t.programmes.c.year == period.year)).all()
    basis = received = 0
    for pledge in rows:
        last_month = pledge.ends_on[:7]
        amount = pledge.original_rupiah
        for change in connection.execute(select(t.pledge_amendments).where(
                t.pledge_amendments.c.pledge == pledge.pledge).order_by(t.pledge_amendments.c.entry_index)):
            if change.amended_on[:7] < last_month:
                amount = change.amount_rupiah
        basis += int(amount)
        received += int(pledge.received_rupiah)
    return basis, received
