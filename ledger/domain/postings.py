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
    kind = entry.type
    if kind == "premium.paid":  # the hot path: premium lines are read as dicts (premiums.py)
        return _pair("coverage:premiums", "bpjs:premium_fund", entry.payload["amount_rupiah"])
    if kind == "premium.refunded":  # the coverage is undone; the money returns to its funders' funds
        payload = entry.payload
        result = [Posting(f"baznas:restricted:{funder['company']}", funder["amount_rupiah"])
                  for funder in payload["funders"]]
        return result + [Posting("coverage:premiums", -payload["amount_rupiah"])]
    if kind not in _TYPED:
        return []
    values = entry.values
    if kind == "pledge.made":
        return _pair(f"pledge:outstanding:{entry.actor}", f"pledge:promised:{entry.actor}", values.amount_rupiah)
    if kind == "pledge.amended":
        delta = values.amount_rupiah - values.previous_rupiah
        return _pair(f"pledge:outstanding:{entry.actor}", f"pledge:promised:{entry.actor}", delta) if delta else []
    if kind == "pledge.cancelled":
        amount = values.outstanding_rupiah
        return _pair(f"pledge:promised:{entry.actor}", f"pledge:outstanding:{entry.actor}", amount) if amount else []
    if kind == "donation.received":
        company, amount = values.company, values.amount_rupiah
        result = _pair(f"baznas:restricted:{company}", f"donations:{company}", amount)
        if values.pledge:
            result += _pair(f"pledge:promised:{company}", f"pledge:outstanding:{company}", amount)
        return result
    if kind == "amil.set_aside":
        return _pair("baznas:amil", f"baznas:restricted:{values.company}", values.amount_rupiah)
    if kind == "disbursement.made":
        result = [Posting("bpjs:premium_fund", values.amount_rupiah)]
        result += [Posting(f"baznas:restricted:{source.company}", -source.amount_rupiah) for source in values.sources]
        return result
    if kind == "claim.paid":
        return _pair(f"claims:paid:{values.benefit}", "bpjs:insurance_fund", values.amount_rupiah)
    assert original is not None and original.index == values.entry, "a reversal needs its original"
    return reversal_postings(postings(original))


# The typed types with postings (besides the premium lines above); every other type has none.
_TYPED = frozenset({"pledge.made", "pledge.amended", "pledge.cancelled", "donation.received", "amil.set_aside",
                    "disbursement.made", "claim.paid", "entry.reversed"})


def reversal_postings(original: Iterable[Posting]) -> list[Posting]:
    """A reversal's postings: its original's, each with the opposite sign (a reader that kept
    the original's postings, such as the views, needs no original entry)."""
    return [Posting(posting.account, -posting.amount_rupiah) for posting in original]


def is_balanced(items: list[Posting]) -> bool:
    return sum(item.amount_rupiah for item in items) == 0
