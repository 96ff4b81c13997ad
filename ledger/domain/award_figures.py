"""The figures the award ranking reads, recomputed from the log alone: a pure accumulator fed
entries in log order. The views compute the same figures in SQL (projections/awards.py);
`amanah verify` uses this one to check the city's signed decisions (ledger/award_check.py).

Per company and year: money received (receipts dated in the year), worker-months and
premiums funded (premium lines for months of the year, neither reversed nor refunded; a
worker-month counts for the line's primary funder), the year's pledges as they stood before
the programme's last month and what was received against them, and the reconciliation items
that name the company as at the year's last day (money undisbursed for more than 90 days, a
pledge of an ended programme not fulfilled)."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, timedelta

from ledger.domain.attribution import Attribution, Share, primary_funder
from ledger.domain.awards import AwardFigures
from ledger.entry import LogEntry

UNDISBURSED_DAYS = 90


@dataclass
class _Receipt:
    company: str
    amount_rupiah: int
    received_on: str
    pledge: str | None
    amil_rupiah: int = 0
    drawn_rupiah: int = 0
    live: bool = True


@dataclass
class _Pledge:
    company: str
    programme: str
    original_rupiah: int
    amount_rupiah: int
    received_rupiah: int = 0
    changes: list[tuple[str, int]] = field(default_factory=list)  # (day, amount after)
    cancelled: bool = False
    reversed: bool = False


class AwardAccumulator:
    """Feed every entry in log order; `figures(year)` gives each contributing company's figures."""

    def __init__(self, years: set[int]):
        self.years = years  # premium lines are counted only for these years' months
        self.attribution = Attribution()
        self.programmes: dict[str, tuple[int, str]] = {}  # programme -> (year, ends_on)
        self.receipts: dict[str, _Receipt] = {}
        self.amil: dict[int, tuple[str, int]] = {}  # entry -> (receipt, amount)
        self.draws: dict[str, list[tuple[str, int]]] = {}  # disbursement -> [(receipt, amount)]
        self.pledges: dict[str, _Pledge] = {}
        # (year, company) -> [worker-months as primary funder, rupiah funded] of the live lines
        self.totals: dict[tuple[int, str], list[int]] = {}
        # The counted lines, 22 bytes each (a million lines fit in 22 MB), so a refund or a
        # reversal can take a line's part away: its entry index (ascending), year, amount and
        # primary funder (a number in `companies`; -1 once the line no longer counts); the
        # few lines split between two companies keep their shares in `split`.
        self.line_index, self.line_year = array("q"), array("h")
        self.line_amount, self.line_primary = array("q"), array("i")
        self.split: dict[int, tuple[Share, ...]] = {}
        self.companies: list[str] = []
        self.company_numbers: dict[str, int] = {}

    def feed(self, entry: LogEntry) -> None:
        """Apply one entry (every entry, in log order)."""
        if entry.type == "premium.paid":
            payload = entry.payload
            self.premium_line(entry.index, payload["batch"], payload["amount_rupiah"], int(payload["month"][:4]))
            return
        shares = self.attribution.feed(entry.type, entry.payload)
        handler = _HANDLERS.get(entry.type)
        if handler is not None:
            handler(self, entry, entry.payload, shares)

    def premium_line(self, index: int, batch: str, amount_rupiah: int, year: int) -> None:
        """A premium line (entry `index` of `batch`, for a month of `year`): all it counts for."""
        shares = self.attribution.line(batch, amount_rupiah)
        if year not in self.years:
            return
        primary = primary_funder(shares)
        number = self.company_numbers.get(primary)
        if number is None:
            number = self.company_numbers[primary] = len(self.companies)
            self.companies.append(primary)
        if len(shares) > 1:
            self.split[len(self.line_index)] = shares
        self.line_index.append(index)
        self.line_year.append(year)
        self.line_amount.append(amount_rupiah)
        self.line_primary.append(number)
        self._count(year, primary, shares, 1)

    def _count(self, year: int, primary: str, shares: tuple[Share, ...], sign: int) -> None:
        totals = self.totals
        (totals.get((year, primary)) or totals.setdefault((year, primary), [0, 0]))[0] += sign
        for _, company, amount in shares:
            (totals.get((year, company)) or totals.setdefault((year, company), [0, 0]))[1] += sign * amount

    def uncount(self, index: int) -> None:
        """The line at entry `index` counts no more (refunded or reversed); other entries: nothing."""
        slot = bisect_left(self.line_index, index)
        if slot == len(self.line_index) or self.line_index[slot] != index or self.line_primary[slot] < 0:
            return
        primary = self.companies[self.line_primary[slot]]
        shares = self.split.pop(slot, None) or (("", primary, self.line_amount[slot]),)
        self._count(self.line_year[slot], primary, shares, -1)
        self.line_primary[slot] = -1

    def figures(self, year: int) -> list[AwardFigures]:
        """The figures of every company with money received in `year`, in company order."""
        first, last = f"{year}-01-01", f"{year}-12-31"
        received: dict[str, int] = {}
        for receipt in self.receipts.values():
            if receipt.live and first <= receipt.received_on <= last:
                received[receipt.company] = received.get(receipt.company, 0) + receipt.amount_rupiah
        basis = self._pledge_basis(year)
        items = self._open_items(last)
        return [AwardFigures(company, received[company], *self.totals.get((year, company), (0, 0)),
                             *basis.get(company, (0, 0)), tuple(items.get(company, ())))
                for company in sorted(received)]

    def _pledge_basis(self, year: int) -> dict[str, tuple[int, int]]:
        basis: dict[str, tuple[int, int]] = {}
        for pledge in self.pledges.values():
            pledge_year, ends_on = self.programmes[pledge.programme]
            if pledge.reversed or pledge_year != year:
                continue
            amount = pledge.original_rupiah
            for day, after in pledge.changes:
                if day[:7] < ends_on[:7]:
                    amount = after
            old = basis.get(pledge.company, (0, 0))
            basis[pledge.company] = (old[0] + amount, old[1] + pledge.received_rupiah)
        return basis

    def _open_items(self, as_of: str) -> dict[str, list[str]]:
        """Reconciliation items naming a company, as the views list them (projections/queries.py)."""
        items: dict[str, list[str]] = {}
        cutoff = (date.fromisoformat(as_of) - timedelta(days=UNDISBURSED_DAYS)).isoformat()
        for name, receipt in self.receipts.items():
            left = receipt.amount_rupiah - receipt.amil_rupiah - receipt.drawn_rupiah
            if receipt.live and receipt.received_on <= cutoff and left > 0:
                items.setdefault(receipt.company, []).append(
                    f"Rp{left:,} of receipt {name} from {receipt.company} undisbursed more than "
                    f"{UNDISBURSED_DAYS} days")
        for name, pledge in self.pledges.items():
            ends_on = self.programmes[pledge.programme][1]
            if not pledge.reversed and not pledge.cancelled and ends_on < as_of \
                    and pledge.amount_rupiah > pledge.received_rupiah:
                items.setdefault(pledge.company, []).append(
                    f"pledge {name} of {pledge.company}: Rp{pledge.amount_rupiah - pledge.received_rupiah:,} "
                    f"not received by {ends_on}")
        return items


def _programme(acc: AwardAccumulator, entry: LogEntry, p: dict, shares) -> None:
    acc.programmes[p["programme"]] = (p["year"], p["ends_on"])


def _pledge(acc: AwardAccumulator, entry: LogEntry, p: dict, shares) -> None:
    acc.pledges[p["pledge"]] = _Pledge(entry.actor, p["programme"], p["amount_rupiah"], p["amount_rupiah"])


def _pledge_changed(acc: AwardAccumulator, entry: LogEntry, p: dict, shares) -> None:
    pledge = acc.pledges[p["pledge"]]
    if entry.type == "pledge.amended":
        pledge.amount_rupiah = p["amount_rupiah"]
    else:
        pledge.amount_rupiah -= p["outstanding_rupiah"]
        pledge.cancelled = True
    pledge.changes.append((entry.envelope["occurred_at"][:10], pledge.amount_rupiah))


def _receipt(acc: AwardAccumulator, entry: LogEntry, p: dict, shares) -> None:
    acc.receipts[p["receipt"]] = _Receipt(p["company"], p["amount_rupiah"], p["received_on"], p.get("pledge"))
    if p.get("pledge") in acc.pledges:
        acc.pledges[p["pledge"]].received_rupiah += p["amount_rupiah"]


def _amil(acc: AwardAccumulator, entry: LogEntry, p: dict, shares) -> None:
    acc.amil[entry.index] = (p["receipt"], p["amount_rupiah"])
    acc.receipts[p["receipt"]].amil_rupiah += p["amount_rupiah"]


def _disbursement(acc: AwardAccumulator, entry: LogEntry, p: dict, shares) -> None:
    draws = [(source["receipt"], source["amount_rupiah"]) for source in p["sources"]]
    acc.draws[p["disbursement"]] = draws
    for receipt, amount in draws:
        acc.receipts[receipt].drawn_rupiah += amount


def _premium_refunded(acc: AwardAccumulator, entry: LogEntry, p: dict, shares) -> None:
    acc.uncount(p["entry"])


def _reversal(acc: AwardAccumulator, entry: LogEntry, p: dict, shares) -> None:
    kind, reference = p["reverses"], p["reference"]
    if kind == "pledge.made":
        acc.pledges[reference["pledge"]].reversed = True
    elif kind == "donation.received":
        receipt = acc.receipts[reference["receipt"]]
        receipt.live = False
        if receipt.pledge in acc.pledges:
            acc.pledges[receipt.pledge].received_rupiah -= receipt.amount_rupiah
    elif kind == "amil.set_aside":
        name, amount = acc.amil.pop(p["entry"])
        acc.receipts[name].amil_rupiah -= amount
    elif kind == "disbursement.made":
        for name, amount in acc.draws.pop(reference["disbursement"], ()):
            acc.receipts[name].drawn_rupiah -= amount
    elif kind == "premium.paid":
        acc.uncount(p["entry"])


_HANDLERS = {
    "programme.opened": _programme, "pledge.made": _pledge, "pledge.amended": _pledge_changed,
    "pledge.cancelled": _pledge_changed, "donation.received": _receipt, "amil.set_aside": _amil,
    "disbursement.made": _disbursement, "premium.refunded": _premium_refunded, "entry.reversed": _reversal,
}
# Every type the figures read: the handlers', the attribution's headers, and premium lines.
READS = frozenset(_HANDLERS) | {"premium.batch", "premium.refund", "premium.paid"}
