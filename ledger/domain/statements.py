"""A company's impact-statement figures recomputed from the log alone: a pure accumulator fed
entries in log order (and the shares the attribution rule gives each premium line). The views
compute the same figures in SQL (projections/queries.statement_figures); `amanah verify
--statement` uses this one, so a company can check its signed statement without the server.

Definitions (docs/statements.md): money figures are dated by the event's own date field
(received_on, made_on) or, where it has none, the envelope's `occurred_at` day; coverage figures
count premium lines whose month is in the period, neither reversed nor refunded; pledge
figures are as at the statement's checkpoint. The arithmetic both share (full-year equivalents,
claims, fulfilment) is in statement_figures.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ledger.domain.attribution import Attribution, primary_funder
from ledger.domain.claims_state import is_fatal
from ledger.domain.periods import Period
from ledger.domain.postings import postings
from ledger.domain.programme import pledged_on
from ledger.domain.statement_figures import add_span, breakdown, claims_summary, full_year_equivalents, pledge_figures
from ledger.entry import LogEntry
from ledger.errors import NotFound
from ledger.organisations import organisation_kind


@dataclass
class _Line:
    programme: str
    worker: str
    month: str
    share_rupiah: int
    primary: bool
    category: str
    kelurahan: str
    state: str = "live"  # or "reversed", or "refunded" (after a death: no longer coverage)


@dataclass
class _Pledge:
    programme: str
    original_rupiah: int
    amount_rupiah: int
    pledged_on: str
    received_rupiah: int = 0
    cancelled: bool = False
    reversed: bool = False
    changes: list[dict] = field(default_factory=list)


class StatementAccumulator:
    """Feed every entry in log order with `feed`; `figures()` returns the statement's figures
    (the same names and values as projections/queries.statement_figures)."""

    def __init__(self, company: str, period: Period):
        self.company, self.period = company, period
        self.attribution = Attribution()
        self.organisations: dict[str, tuple[str, str]] = {}  # id -> (legal name, kind)
        self.years: dict[str, int] = {}
        self.pledges: dict[str, _Pledge] = {}
        self.receipts: dict[str, tuple[int, str, str | None, bool]] = {}  # amount, received_on, pledge, live
        self.amil: dict[int, tuple[int, str, bool]] = {}
        self.disbursements: dict[str, tuple[int, str, bool]] = {}  # own draw, made_on, live
        self.restricted: dict[int, int] = {}  # entry -> its posting to the company's restricted fund
        self.unspent_held_rupiah = 0
        self.profiles: dict[tuple[str, str], tuple[str, str]] = {}
        self.lines: dict[int, _Line] = {}  # premium lines the company paid part of
        self.primary_lines: dict[int, str] = {}  # every live line in the period -> its primary funder
        self.claims: dict[tuple[str, str], dict] = {}
        self.entries: list[list[int]] = []  # the statement's `entries` (docs/statements.md), as ranges
        self.drawn: set[str] = set()  # the disbursements with a source of the company

    def feed(self, entry: LogEntry) -> None:
        """Apply one entry (entries must come in log order, every one of them)."""
        payload, kind = entry.payload, entry.type
        day = entry.envelope["occurred_at"][:10]
        shares = self.attribution.feed(kind, payload)
        self._restricted(entry, day)
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, entry, payload, day, shares)

    def _restricted(self, entry: LogEntry, day: str) -> None:
        account = f"baznas:restricted:{self.company}"
        if entry.type == "entry.reversed":
            amount = -self.restricted.get(entry.payload["entry"], 0)
        else:
            amount = sum(item.amount_rupiah for item in postings(entry) if item.account == account)
        if amount:
            self.restricted[entry.index] = amount
            if day <= self.period.last_day:
                self.unspent_held_rupiah += amount

    def _in_period(self, day: str) -> bool:
        return self.period.first_day <= day <= self.period.last_day

    def _month_in_period(self, month: str) -> bool:
        return self.period.first_month <= month <= self.period.last_month

    # ---- figures -------------------------------------------------------------------------

    def figures(self) -> dict:
        """The statement's figures for the company and period, from what was fed."""
        legal_name, kind = self.organisations.get(self.company, (None, None))
        if kind != "company":
            raise NotFound(f"no company {self.company!r}", field="company")
        pledges = [pledge for pledge in self.pledges.values() if not pledge.reversed
                   and pledge.pledged_on <= self.period.last_day and self.years.get(pledge.programme) == self.period.year]
        live = [line for line in self.lines.values() if line.state == "live" and self._month_in_period(line.month)]
        primary = [line for line in live if line.primary]
        by_company: dict[str, int] = defaultdict(int)
        for company in self.primary_lines.values():
            by_company[company] += 1
        programme_fye, parts = full_year_equivalents(by_company)
        return {
            "company": {"organisation": self.company, "legal_name": legal_name},
            "period": self.period.name, "from": self.period.first_day, "to": self.period.last_day,
            **pledge_figures(pledges),
            "received_rupiah": sum(amount for amount, on, _, alive in self.receipts.values()
                                   if alive and self._in_period(on)),
            "amil_rupiah": sum(amount for amount, on, alive in self.amil.values() if alive and self._in_period(on)),
            "disbursed_rupiah": sum(amount for amount, on, alive in self.disbursements.values()
                                    if alive and self._in_period(on)),
            "unspent_held_rupiah": self.unspent_held_rupiah,
            "premiums_funded_rupiah": sum(line.share_rupiah for line in live),
            "premiums_refunded_rupiah": sum(line.share_rupiah for line in self.lines.values()
                                            if line.state == "refunded" and self._month_in_period(line.month)),
            "worker_months": len(primary),
            "full_year_equivalent_workers": parts.get(self.company, "0.00"),
            "programme_full_year_equivalent_workers": programme_fye,
            "distinct_workers_reached_overlapping": len({(line.programme, line.worker) for line in primary}),
            "by_category": breakdown(live, "category"),
            "by_kelurahan": breakdown(live, "kelurahan"),
            "by_month": self._by_month(),
            "claims_paid": self._claims(),
        }

    def _by_month(self) -> list[dict]:
        received: dict[str, int] = defaultdict(int)
        for amount, on, _, alive in self.receipts.values():
            if alive and self._in_period(on):
                received[on[:7]] += amount
        funded: dict[str, int] = defaultdict(int)
        months: dict[str, int] = defaultdict(int)
        for line in self.lines.values():
            if line.state == "live":
                funded[line.month] += line.share_rupiah
                months[line.month] += line.primary
        return [{"month": month, "received_rupiah": received.get(month, 0),
                 "premiums_funded_rupiah": funded.get(month, 0), "worker_months": months.get(month, 0)}
                for month in self.period.months()]

    def _claims(self) -> dict:
        """Claims paid in the period whose incident-month premium the company helped pay."""
        funded = {(line.worker, line.month) for line in self.lines.values() if line.state == "live"}
        paid = [(claim["benefit"], claim["amount_rupiah"], claim["fatal"], claim["paid_index"])
                for claim in self.claims.values() if claim["status"] == "paid" and self._in_period(claim["paid_on"])
                and (claim["worker"], claim["incident_on"][:7]) in funded]
        return claims_summary(paid)


# ---- handlers, one per event type the figures read -------------------------------------------

def _organisation(acc: StatementAccumulator, entry: LogEntry, p: dict, day: str, shares) -> None:
    acc.organisations[p["organisation"]] = (p["legal_name"], organisation_kind(entry.values))


def _programme(acc: StatementAccumulator, entry: LogEntry, p: dict, day: str, shares) -> None:
    acc.years[p["programme"]] = p["year"]


def _pledge(acc: StatementAccumulator, entry: LogEntry, p: dict, day: str, shares) -> None:
    if entry.actor == acc.company:
        add_span(acc.entries, entry.index, entry.index)
        acc.pledges[p["pledge"]] = _Pledge(p["programme"], p["amount_rupiah"], p["amount_rupiah"],
                                           pledged_on(entry))


def _pledge_changed(acc: StatementAccumulator, entry: LogEntry, p: dict, day: str, shares) -> None:
    pledge = acc.pledges.get(p["pledge"]) if entry.actor == acc.company else None
    if pledge is None:
        return
    previous = pledge.amount_rupiah
    if entry.type == "pledge.amended":
        pledge.amount_rupiah = p["amount_rupiah"]
    else:
        pledge.amount_rupiah, pledge.cancelled = previous - p["outstanding_rupiah"], True
    pledge.changes.append({"pledge": p["pledge"], "kind": entry.type.split(".")[1], "on": day,
                           "previous_rupiah": previous, "amount_rupiah": pledge.amount_rupiah,
                           "reason": p["reason"], "entry": entry.index})


def _receipt(acc: StatementAccumulator, entry: LogEntry, p: dict, day: str, shares) -> None:
    if p["company"] != acc.company:
        return
    add_span(acc.entries, entry.index, entry.index)
    acc.receipts[p["receipt"]] = (p["amount_rupiah"], p["received_on"], p.get("pledge"), True)
    if p.get("pledge") in acc.pledges:
        acc.pledges[p["pledge"]].received_rupiah += p["amount_rupiah"]


def _amil(acc: StatementAccumulator, entry: LogEntry, p: dict, day: str, shares) -> None:
    if p["company"] == acc.company:
        add_span(acc.entries, entry.index, entry.index)
        acc.amil[entry.index] = (p["amount_rupiah"], day, True)


def _disbursement(acc: StatementAccumulator, entry: LogEntry, p: dict, day: str, shares) -> None:
    if any(source["company"] == acc.company for source in p["sources"]):
        add_span(acc.entries, entry.index, entry.index)
        acc.drawn.add(p["disbursement"])
    if own := sum(source["amount_rupiah"] for source in p["sources"] if source["company"] == acc.company):
        acc.disbursements[p["disbursement"]] = (own, p["made_on"], True)


def _worker(acc: StatementAccumulator, entry: LogEntry, p: dict, day: str, shares) -> None:
    key = (p["programme"], p["worker"])
    if entry.type == "worker.enrolled":
        acc.profiles[key] = (p["category"], p["kelurahan"])
    elif key in acc.profiles:
        category, kelurahan = acc.profiles[key]
        acc.profiles[key] = (p.get("category", category), p.get("kelurahan", kelurahan))


def _premium(acc: StatementAccumulator, entry: LogEntry, p: dict, day: str, shares) -> None:
    primary, in_period = primary_funder(shares), acc._month_in_period(p["month"])
    if in_period:
        acc.primary_lines[entry.index] = primary
    own = sum(amount for _, company, amount in shares if company == acc.company)
    if own and in_period:
        add_span(acc.entries, entry.index, entry.index)
    if own:
        category, kelurahan = acc.profiles[(p["programme"], p["worker"])]
        acc.lines[entry.index] = _Line(p["programme"], p["worker"], p["month"], own, primary == acc.company,
                                       category, kelurahan)


def _header(acc: StatementAccumulator, entry: LogEntry, p: dict, day: str, shares) -> None:
    if p["disbursement"] in acc.drawn:  # a premium batch or refund charged to money of the company
        add_span(acc.entries, entry.index, entry.index)


def _premium_refunded(acc: StatementAccumulator, entry: LogEntry, p: dict, day: str, shares) -> None:
    acc.primary_lines.pop(p["entry"], None)
    line = acc.lines.get(p["entry"])
    if line is not None and line.state == "live":
        line.state = "refunded"


def _claim(acc: StatementAccumulator, entry: LogEntry, p: dict, day: str, shares) -> None:
    key = (p["benefit"], p["claim"])
    if entry.type == "claim.filed":
        acc.claims[key] = {"benefit": p["benefit"], "worker": p["worker"], "incident_on": p["incident_on"],
                           "status": "filed", "amount_rupiah": None, "paid_on": None, "paid_index": None,
                           "fatal": is_fatal(p["benefit"], p.get("fatal"))}
    elif entry.type == "claim.approved":
        acc.claims[key].update(status="approved", amount_rupiah=p["amount_rupiah"])
    elif entry.type == "claim.paid":
        acc.claims[key].update(status="paid", paid_on=p["paid_on"], paid_index=entry.index)
    else:
        acc.claims[key].update(status="rejected")


def _reversal(acc: StatementAccumulator, entry: LogEntry, p: dict, day: str, shares) -> None:
    kind, reference = p["reverses"], p["reference"]
    if kind == "pledge.made" and reference["pledge"] in acc.pledges and entry.actor == acc.company:
        acc.pledges[reference["pledge"]].reversed = True
    elif kind == "donation.received" and reference["receipt"] in acc.receipts:
        amount, on, pledge, _ = acc.receipts[reference["receipt"]]
        acc.receipts[reference["receipt"]] = (amount, on, pledge, False)
        if pledge in acc.pledges:
            acc.pledges[pledge].received_rupiah -= amount
    elif kind == "amil.set_aside" and p["entry"] in acc.amil:
        amount, on, _ = acc.amil[p["entry"]]
        acc.amil[p["entry"]] = (amount, on, False)
    elif kind == "disbursement.made" and reference["disbursement"] in acc.disbursements:
        amount, on, _ = acc.disbursements[reference["disbursement"]]
        acc.disbursements[reference["disbursement"]] = (amount, on, False)
    elif kind == "premium.paid":
        acc.primary_lines.pop(p["entry"], None)
        if p["entry"] in acc.lines:
            acc.lines[p["entry"]].state = "reversed"
    elif kind in ("claim.approved", "claim.paid"):
        claim = acc.claims[(reference["benefit"], reference["claim"])]
        if kind == "claim.paid":
            claim.update(status="approved", paid_on=None, paid_index=None)
        else:
            claim.update(status="filed", amount_rupiah=None)


_HANDLERS = {
    "ledger.created": _organisation, "organisation.registered": _organisation, "programme.opened": _programme,
    "pledge.made": _pledge, "pledge.amended": _pledge_changed, "pledge.cancelled": _pledge_changed,
    "donation.received": _receipt, "amil.set_aside": _amil, "disbursement.made": _disbursement,
    "worker.enrolled": _worker, "worker.updated": _worker, "premium.batch": _header, "premium.refund": _header,
    "premium.paid": _premium,
    "premium.refunded": _premium_refunded, "claim.filed": _claim, "claim.approved": _claim, "claim.paid": _claim,
    "claim.rejected": _claim, "entry.reversed": _reversal,
}
