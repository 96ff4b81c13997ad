"""Double-entry postings: a pure function from a log entry to balanced postings.

Amounts are signed whole rupiah: debit positive, credit negative; every entry's postings sum
to zero, so the trial balance over any set of entries is zero. Chart of accounts
(`{c}` is a company id; see docs/domain.md):

    pledge:outstanding:{c}   debit   promised and not yet received (memorandum)
    pledge:promised:{c}      credit  the company's promise (memorandum)
    baznas:restricted:{c}    debit   money Baznas holds for the programme, from company c
    donations:{c}            credit  money company c gave
    baznas:amil              debit   Baznas's amil share
    bpjs:premium_fund        debit   money at BPJS not yet turned into premiums
    coverage:premiums        debit   money turned into worker-months of coverage
    claims:paid:{jkm|jkk}    debit   benefits paid to workers and heirs
    bpjs:insurance_fund      credit  BPJS's own fund, from which claims are paid

Money in equals money out plus balances: donations = amil + restricted + premium fund + premiums.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.entry import LogEntry


@dataclass(frozen=True)
class Posting:
    account: str
    amount_rupiah: int  # debit > 0, credit < 0


def _pair(debit: str, credit: str, amount: int) -> list[Posting]:
    return [Posting(debit, amount), Posting(credit, -amount)]


def postings(entry: LogEntry, original: LogEntry | None = None) -> list[Posting]:
    """The postings of `entry`; a reversal needs the entry it reverses as `original`."""
    payload, kind = entry.payload, entry.type
    if kind == "pledge.made":
        return _pair(f"pledge:outstanding:{entry.actor}", f"pledge:promised:{entry.actor}", payload["amount_rupiah"])
    if kind == "pledge.amended":
        delta = payload["amount_rupiah"] - payload["previous_rupiah"]
        return _pair(f"pledge:outstanding:{entry.actor}", f"pledge:promised:{entry.actor}", delta) if delta else []
    if kind == "pledge.cancelled":
        amount = payload["outstanding_rupiah"]
        return _pair(f"pledge:promised:{entry.actor}", f"pledge:outstanding:{entry.actor}", amount) if amount else []
    if kind == "donation.received":
        company, amount = payload["company"], payload["amount_rupiah"]
        result = _pair(f"baznas:restricted:{company}", f"donations:{company}", amount)
        if payload.get("pledge"):
            result += _pair(f"pledge:promised:{company}", f"pledge:outstanding:{company}", amount)
        return result
    if kind == "amil.set_aside":
        return _pair("baznas:amil", f"baznas:restricted:{payload['company']}", payload["amount_rupiah"])
    if kind == "disbursement.made":
        result = [Posting("bpjs:premium_fund", payload["amount_rupiah"])]
        result += [Posting(f"baznas:restricted:{source['company']}", -source["amount_rupiah"])
                   for source in payload["sources"]]
        return result
    if kind == "premium.paid":
        return _pair("coverage:premiums", "bpjs:premium_fund", payload["amount_rupiah"])
    if kind == "premium.refunded":  # the coverage is undone; the money returns to its funders' funds
        result = [Posting(f"baznas:restricted:{funder['company']}", funder["amount_rupiah"])
                  for funder in payload["funders"]]
        return result + [Posting("coverage:premiums", -payload["amount_rupiah"])]
    if kind == "claim.paid":
        return _pair(f"claims:paid:{payload['benefit']}", "bpjs:insurance_fund", payload["amount_rupiah"])
    if kind == "entry.reversed":
        assert original is not None and original.index == payload["entry"], "a reversal needs its original"
        return reversal_postings(postings(original))
    return []


def reversal_postings(original: Iterable[Posting]) -> list[Posting]:
    """A reversal's postings: its original's, each with the opposite sign (a reader that kept
    the original's postings, such as the views, needs no original entry)."""
    return [Posting(posting.account, -posting.amount_rupiah) for posting in original]


def is_balanced(items: list[Posting]) -> bool:
    return sum(item.amount_rupiah for item in items) == 0
