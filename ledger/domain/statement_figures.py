"""The arithmetic of a statement's figures that the views (projections/queries.py) and the
offline verifier (statements.py) share, so the two cannot round or group differently: full-year
equivalents in hundredths, decimal strings, paid claims by benefit, pledge figures and breakdowns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ledger.domain.attribution import largest_remainder


def full_year_equivalent_hundredths(worker_months: int) -> int:
    """worker_months / 12 in hundredths, rounded half up."""
    return (worker_months * 200 + 12) // 24


def as_decimal(hundredths: int) -> str:
    """1234 -> "12.34": a decimal string, never a float."""
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def full_year_equivalents(worker_months_by_company: dict[str, int]) -> tuple[str, dict[str, str]]:
    """The programme's full-year-equivalent workers (worker-months / 12, two decimals) and each
    company's part of it: the programme's hundredths split pro rata to worker-months by largest
    remainder (companies in id order), so the parts add up exactly to the programme's figure."""
    companies = sorted(company for company, months in worker_months_by_company.items() if months > 0)
    total = sum(worker_months_by_company[company] for company in companies)
    programme = full_year_equivalent_hundredths(total)
    parts = largest_remainder(programme, [worker_months_by_company[c] for c in companies]) if total else []
    return as_decimal(programme), {company: as_decimal(part) for company, part in zip(companies, parts, strict=True)}


def claims_summary(paid: list[tuple[str, int, bool, int]]) -> dict:
    """Paid claims (benefit, amount, fatal, paid entry) by benefit: JKM to heirs, JKK to the
    worker (or the heirs, when fatal), never added together."""
    summary = {"jkm": {"paid_to": "heirs", "count": 0, "total_rupiah": 0, "amounts_rupiah": []},
               "jkk": {"paid_to": "worker (heirs when fatal)", "count": 0, "total_rupiah": 0, "fatal_count": 0,
                       "amounts_rupiah": []}}
    for benefit, amount, fatal, _ in paid:
        item = summary[benefit]
        item["count"] += 1
        item["total_rupiah"] += amount
        item["amounts_rupiah"].append(amount)
        if benefit == "jkk" and fatal:
            item["fatal_count"] += 1
    for item in summary.values():
        item["amounts_rupiah"].sort(reverse=True)
    return {"by_benefit": summary, "entries": sorted(entry for *_, entry in paid)}


def fulfilment_percent(received_rupiah: int, pledged_rupiah: int) -> int | None:
    """Whole percent of the pledge as first made that was received (capped at 100); None
    without a pledge."""
    return min(100, received_rupiah * 100 // pledged_rupiah) if pledged_rupiah else None


def pledge_figures(pledges: Sequence) -> dict:
    """The pledge figures of the pledges that count (each with original_rupiah, amount_rupiah,
    received_rupiah, cancelled and changes)."""
    original = sum(pledge.original_rupiah for pledge in pledges)
    received = sum(pledge.received_rupiah for pledge in pledges)
    return {
        "pledged_rupiah": original,
        "pledged_current_rupiah": sum(pledge.amount_rupiah for pledge in pledges),
        "pledge_fulfilment_percent": fulfilment_percent(received, original),
        "pledge_changes": sorted((change for pledge in pledges for change in pledge.changes),
                                 key=lambda change: change["entry"]),
        "pledge_outstanding_rupiah": sum(max(pledge.amount_rupiah - pledge.received_rupiah, 0)
                                         for pledge in pledges if not pledge.cancelled),
    }


def breakdown(lines: Sequence, attribute: str) -> dict:
    """Worker-months and premiums funded by one attribute of the premium lines (category, kelurahan)."""
    result: dict[str, dict] = defaultdict(lambda: {"worker_months": 0, "premiums_funded_rupiah": 0})
    for line in lines:
        item = result[getattr(line, attribute)]
        item["worker_months"] += line.primary
        item["premiums_funded_rupiah"] += line.share_rupiah
    return dict(sorted(result.items()))


def join_spans(spans) -> list[list[int]]:
    """Sorted (first, last) spans joined where they touch: [(1,2),(3,3),(7,9)] -> [[1,3],[7,9]]."""
    ranges: list[list[int]] = []
    for first, last in spans:
        add_span(ranges, first, last)
    return ranges


def add_span(ranges: list[list[int]], first: int, last: int) -> None:
    """Add a span that starts at or after every span in `ranges`, joined with the last where they
    touch: how a statement's `entries` are listed, by the views and by `amanah verify --statement`."""
    if ranges and first <= ranges[-1][1] + 1:
        ranges[-1][1] = max(ranges[-1][1], last)
    else:
        ranges.append([first, last])
