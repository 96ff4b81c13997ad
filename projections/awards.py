"""The city's annual award list: contributing companies ranked, with tiers by configurable
criteria. By default a company with an unfulfilled pledge or an open reconciliation item is
listed separately and not awarded."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from projections import tables as t
from projections.periods import parse_period
from projections.queries import reconciliation, statement_figures

DEFAULT_CRITERIA = {
    "rank_by": "received_rupiah",  # or workers_covered, worker_months, premiums_funded_rupiah
    "tiers": [  # [assumed] tier names and thresholds: the city sets its own
        {"name": "Utama", "min_received_rupiah": 500_000_000, "min_workers_covered": 0},
        {"name": "Madya", "min_received_rupiah": 100_000_000, "min_workers_covered": 0},
        {"name": "Pratama", "min_received_rupiah": 1, "min_workers_covered": 0},
    ],
    "exclude_unfulfilled_pledges": True,
    "exclude_open_reconciliation": True,
    "min_pledge_fulfilment_percent": 100,
}
RANK_KEYS = ("received_rupiah", "workers_covered", "worker_months", "premiums_funded_rupiah")


def award_list(connection: Connection, year: int, criteria: dict | None = None, as_of: str | None = None) -> dict:
    """Every company that contributed money in `year`, awarded or listed separately."""
    criteria = {**DEFAULT_CRITERIA, **(criteria or {})}
    assert criteria["rank_by"] in RANK_KEYS, criteria["rank_by"]
    period = parse_period(str(year))
    companies = sorted({row.company for row in connection.execute(select(t.receipts.c.company).where(
        t.receipts.c.reversed.is_(False), t.receipts.c.received_on.between(period.first_day, period.last_day)))})
    open_items = reconciliation(connection, as_of or period.last_day)
    rows = []
    for company in companies:
        figures = statement_figures(connection, company, period)
        fulfilment = 100 if not figures["pledged_rupiah"] else min(
            100, figures["received_rupiah"] * 100 // figures["pledged_rupiah"])
        reasons = []
        if criteria["exclude_unfulfilled_pledges"] and (
                figures["pledge_outstanding_rupiah"] > 0 or fulfilment < criteria["min_pledge_fulfilment_percent"]):
            reasons.append(f"pledge not fulfilled: Rp{figures['pledge_outstanding_rupiah']:,} outstanding")
        if criteria["exclude_open_reconciliation"]:
            reasons += [item["detail"] for item in open_items if item["company"] == company]
        rows.append({"company": company, "legal_name": figures["company"]["legal_name"],
                     "received_rupiah": figures["received_rupiah"], "pledged_rupiah": figures["pledged_rupiah"],
                     "pledge_fulfilment_percent": fulfilment, "workers_covered": figures["workers_covered"],
                     "worker_months": figures["worker_months"],
                     "premiums_funded_rupiah": figures["premiums_funded_rupiah"], "reasons": reasons})
    key = criteria["rank_by"]
    separate = sorted((row for row in rows if row["reasons"]), key=lambda row: row["company"])
    awarded = sorted((row for row in rows if not row["reasons"]), key=lambda row: (-row[key], row["company"]))
    for rank, row in enumerate(awarded, 1):
        row["rank"], row["tier"] = rank, _tier(row, criteria["tiers"])
        del row["reasons"]
    return {"year": year, "criteria": criteria, "awarded": awarded, "not_awarded": separate,
            "companies_contributing": len(rows)}


def _tier(row: dict, tiers: list[dict]) -> str | None:
    for tier in tiers:
        if row["received_rupiah"] >= tier["min_received_rupiah"] and row["workers_covered"] >= tier.get(
                "min_workers_covered", 0):
            return tier["name"]
    return None
