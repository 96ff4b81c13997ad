"""Random sequences of valid and invalid submissions (hypothesis): refused ones store nothing,
accepted ones never break an invariant, and the views equal a deliberately simple
recomputation from the raw entries, written here from docs/domain.md."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import payloads, signing
from ledger.application import Ledger
from ledger.award_trail import AwardTrail
from ledger.bundle import verify_database
from ledger.client import Signer, public_key_b64
from ledger.config import Settings
from ledger.domain.attribution import Attribution
from ledger.domain.award_figures import AwardAccumulator
from ledger.domain.periods import parse_period
from ledger.domain.statements import StatementAccumulator
from ledger.entry import parse_stored_entry
from ledger.errors import LedgerError
from projections.queries import balances, programme_totals, statement_entries, statement_figures
from projections.runner import ProjectionRunner
from tests.conftest import genesis_submission

P = "prop-2025"
COMPANIES = ("pt-a", "pt-b", "pt-c")
command = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(COMPANIES), st.integers(1, 3_000_000)),
    st.tuples(st.just("amil"), st.integers(0, 9), st.integers(1, 400_000)),
    st.tuples(st.just("disburse"), st.lists(st.tuples(st.integers(0, 9), st.integers(1, 2_000_000)), min_size=1,
                                            max_size=3)),
    st.tuples(st.just("enrol"), st.integers(0, 15)),
    st.tuples(st.just("pay"), st.integers(0, 9), st.sampled_from(["2025-02", "2025-03"]),
              st.lists(st.integers(0, 15), min_size=1, max_size=6)),
    st.tuples(st.just("reverse_receipt"), st.integers(0, 9)),
    st.tuples(st.just("refund"), st.integers(0, 99)),
    st.tuples(st.just("die"), st.integers(0, 15)),
    st.tuples(st.just("refund_after_death"), st.integers(0, 99)),
)


# Money from two companies in one disbursement, a few workers and their February and March premiums,
# so most examples have coverage to attribute, and a death ("die") has a later premium to refund.
SETUP = [("receive", "pt-a", 2_000_000), ("receive", "pt-b", 1_500_000),
         ("disburse", [(0, 700_000), (1, 500_000)]), *(("enrol", n) for n in range(4)), ("pay", 0, "2025-02", [0, 1, 2]),
         ("pay", 0, "2025-03", [0, 1])]


class World:
    def __init__(self, directory: str):
        self.settings = Settings.from_environment({"AMANAH_HOME": directory,
                                                   "AMANAH_DATABASE_URL": f"sqlite:///{directory}/ledger.db"})
        key = signing.generate()
        self.ledger = Ledger(self.settings, key, b"p" * 32)
        registrar = Signer(self.settings.origin, "registrar", signing.generate())
        self.ledger.submit(genesis_submission(self.settings, registrar, key))
        self.signers, self.count = {}, 0
        for organisation, kind in (("city", "city"), ("baznas", "baznas"), ("bpjs", "bpjs"),
                                   *((company, "company") for company in COMPANIES)):
            private = signing.generate()
            self.ledger.submit(registrar.one(f"r-{organisation}", "organisation.registered", "2025-01-01T00:00:00Z", {
                "organisation": organisation, "legal_name": organisation, "kind": kind,
                "public_key": public_key_b64(private)}))
            self.signers[organisation] = Signer(self.settings.origin, organisation, private)
        self.submit("city", [("programme.opened", payloads.programme_opened(P, 2025))])
        self.receipts: list[tuple[str, str, int]] = []  # (receipt, company, entry)
        self.disbursements: list[str] = []
        self.lines: list[tuple[int, dict]] = []  # premium lines paid: (entry, payload)
        self.enrolled: list[int] = []
        self.dead: set[str] = set()

    def submit(self, who: str, events: list[tuple[str, dict]]) -> dict:
        self.count += 1
        return self.ledger.submit(self.signers[who].submission(
            f"c{self.count}", [(kind, "2025-02-01T00:00:00Z", payload) for kind, payload in events]))

    def die(self, number: int) -> None:
        """A JKM death on 15 February of a worker whose February premium was paid."""
        worker = self.reference(self.enrolled[number % len(self.enrolled)]) if self.enrolled else None
        if worker is None or not any(line["worker"] == worker and line["month"] == "2025-02" for _, line in self.lines):
            return
        claim = f"jkm-{worker[:8]}"
        self.submit("bpjs", [("claim.filed", payloads.claim(P, claim, worker, "jkm", incident_on="2025-02-15",
                                                            filed_on="2025-02-16"))])
        self.submit("bpjs", [("claim.approved", payloads.approval(P, claim, worker, "jkm", 10_000_000,
                                                                  "2025-02-17", "2025-02-17"))])
        self.submit("bpjs", [("claim.paid", payloads.claim(P, claim, worker, "jkm", amount_rupiah=10_000_000,
                                                           paid_on="2025-02-18"))])
        self.dead.add(worker)

    def refund_after_death(self, pick: int) -> None:
        """BPJS refunds a March premium of a worker who died in February, to the line's funders."""
        after = [(entry, line) for entry, line in self.lines if line["worker"] in self.dead and line["month"] == "2025-03"]
        if not after:
            return
        entry, line = after[pick % len(after)]
        tracker, shares = Attribution(), None
        for start in range(0, entry + 1, 1000):
            for _, leaf in self.ledger.entries(start, min(1000, entry + 1 - start)):
                parsed = parse_stored_entry(leaf)
                shares = tracker.feed(parsed.type, parsed.payload)
        self.submit("bpjs", [("premium.refunded", payloads.refund(P, line["worker"], "2025-03", entry,
                                                                  line["amount_rupiah"], "2025-03-05", list(shares)))])
        self.lines.remove((entry, line))

    def reference(self, number: int) -> str:
        return hashlib.sha256(f"worker {number}".encode()).hexdigest()  # enrolled without personal data

    def run(self, step: tuple) -> None:
        kind = step[0]
        if kind == "receive":
            receipt = f"rc-{len(self.receipts)}"
            result = self.submit("baznas", [("donation.received", payloads.receipt(P, receipt, step[1], step[2], "2025-01-10"))])
            self.receipts.append((receipt, step[1], result["first_index"]))
        elif kind == "amil" and self.receipts:
            receipt, company, _ = self.receipts[step[1] % len(self.receipts)]
            self.submit("baznas", [("amil.set_aside", {"programme": P, "receipt": receipt, "company": company,
                                                       "amount_rupiah": step[2]})])
        elif kind == "disburse" and self.receipts:
            sources = {}
            for position, amount in step[1]:
                receipt, company, _ = self.receipts[position % len(self.receipts)]
                sources[receipt] = (receipt, company, amount)
            name = f"ds-{len(self.disbursements)}"
            self.submit("baznas", [("disbursement.made", payloads.disbursement(P, name, "bpjs", "2025-02", "2025-02-01",
                                                                               list(sources.values())))])
            self.disbursements.append(name)
        elif kind == "enrol":
            self.submit("bpjs", [("worker.enrolled", payloads.enrolment(P, self.reference(step[1]), "ojek_online",
                                                                        "Kelapa Gading Barat", "2025-01-15"))])
            self.enrolled.append(step[1])
        elif kind == "pay" and self.disbursements and self.enrolled:
            chosen = dict.fromkeys(self.enrolled[n % len(self.enrolled)] for n in step[3])
            workers = [{"worker": self.reference(n), "income_rupiah": 1_000_000, "category": "ojek_online", "jht": False}
                       for n in chosen]
            disbursement = self.disbursements[step[1] % len(self.disbursements)]
            events = payloads.premium_batch(P, f"b-{self.count}", disbursement, step[2], workers)
            result = self.submit("bpjs", events)
            self.lines += [(result["first_index"] + 1 + n, payload) for n, (_, payload) in enumerate(events[1:])]
        elif kind == "die":
            self.die(step[1])
        elif kind == "refund_after_death":
            self.refund_after_death(step[1])
        elif kind == "refund" and self.lines:
            entry, line = self.lines.pop(step[1] % len(self.lines))
            self.submit("bpjs", [("premium.refund", {"programme": P, "batch": f"rf-{self.count}",
                                                     "disbursement": line["disbursement"], "lines": 1,
                                                     "total_rupiah": line["amount_rupiah"]}),
                                 ("entry.reversed", {"programme": P, "entry": entry, "reverses": "premium.paid",
                                                     "reference": {"worker": line["worker"], "month": line["month"]},
                                                     "reason_code": "wrong_worker", "note": "test"})])
        elif kind == "reverse_receipt" and self.receipts:
            receipt, _, entry = self.receipts[step[1] % len(self.receipts)]
            self.submit("baznas", [("entry.reversed", {"programme": P, "entry": entry, "reverses": "donation.received",
                                                       "reference": {"receipt": receipt}, "reason_code": "duplicate",
                                                       "note": "test"})])


def recompute(ledger: Ledger) -> tuple[dict, dict]:
    """Balances and totals from the raw entries, by the rules of docs/domain.md, nothing shared."""
    entries = {}
    for start in range(0, ledger.size(), 1000):
        for index, leaf in ledger.entries(start, min(1000, ledger.size() - start)):
            entries[index] = json.loads(leaf)["envelope"]
    postings_of: dict[int, list[tuple[str, int]]] = {}
    account = defaultdict(int)
    premiums, worker_months, workers = 0, 0, set()
    reversed_premiums = set()
    for index in sorted(entries):
        envelope = entries[index]
        kind, payload = envelope["type"], envelope["payload"]
        items: list[tuple[str, int]] = []
        if kind == "donation.received":
            items = [(f"baznas:restricted:{payload['company']}", payload["amount_rupiah"]),
                     (f"donations:{payload['company']}", -payload["amount_rupiah"])]
        elif kind == "amil.set_aside":
            items = [("baznas:amil", payload["amount_rupiah"]), (f"baznas:restricted:{payload['company']}", -payload["amount_rupiah"])]
        elif kind == "disbursement.made":
            items = [("bpjs:premium_fund", payload["amount_rupiah"])] + [
                (f"baznas:restricted:{source['company']}", -source["amount_rupiah"]) for source in payload["sources"]]
        elif kind == "premium.paid":
            items = [("coverage:premiums", payload["amount_rupiah"]), ("bpjs:premium_fund", -payload["amount_rupiah"])]
        elif kind == "premium.refunded":  # back to each funder's restricted fund; no longer coverage
            items = [(f"baznas:restricted:{funder['company']}", funder["amount_rupiah"]) for funder in payload["funders"]]
            items.append(("coverage:premiums", -payload["amount_rupiah"]))
            reversed_premiums.add(payload["entry"])
        elif kind == "claim.paid":
            items = [(f"claims:paid:{payload['benefit']}", payload["amount_rupiah"]),
                     ("bpjs:insurance_fund", -payload["amount_rupiah"])]
        elif kind == "entry.reversed":
            items = [(name, -amount) for name, amount in postings_of[payload["entry"]]]
            if payload["reverses"] == "premium.paid":
                reversed_premiums.add(payload["entry"])
        postings_of[index] = items
        for name, amount in items:
            account[name] += amount
    for index, envelope in entries.items():
        if envelope["type"] == "premium.paid" and index not in reversed_premiums:
            premiums += envelope["payload"]["amount_rupiah"]
            worker_months += 1
            workers.add(envelope["payload"]["worker"])
    totals = {"premiums_rupiah": premiums, "worker_months": worker_months, "distinct_workers": len(workers),
              "funded_by_company": _attribution(entries, reversed_premiums)}
    return {name: amount for name, amount in account.items() if amount or name in account}, totals


def _largest_remainder(total: int, weights: list[int]) -> list[int]:
    whole = sum(weights)
    parts = [total * weight // whole for weight in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[:total - sum(parts)]:
        parts[i] += 1
    return parts


def _attribution(entries: dict, reversed_premiums: set) -> dict:
    """docs/domain.md: a batch's total split pro rata to what each source has left after what
    earlier batches were charged (largest remainder), lines funded from those quotas in source
    order; a refund header gives charges back pro rata to what each source was charged."""
    sources, charged, funded = {}, {}, defaultdict(int)
    quotas: dict[str, list] = {}
    for index in sorted(entries):
        envelope = entries[index]
        kind, payload = envelope["type"], envelope["payload"]
        if kind == "disbursement.made":
            sources[payload["disbursement"]] = sorted((s["receipt"], s["company"], s["amount_rupiah"])
                                                      for s in payload["sources"])
            charged[payload["disbursement"]] = [0] * len(payload["sources"])
        elif kind == "premium.batch":
            own, used = sources[payload["disbursement"]], charged[payload["disbursement"]]
            shares = _largest_remainder(payload["total_rupiah"], [amount - used[i] for i, (_, _, amount) in enumerate(own)])
            charged[payload["disbursement"]] = [used[i] + shares[i] for i in range(len(own))]
            quotas[payload["batch"]] = [[receipt, company, share] for (receipt, company, _), share in zip(own, shares)]
        elif kind == "premium.refund":
            used = charged[payload["disbursement"]]
            back = _largest_remainder(payload["total_rupiah"], used)
            charged[payload["disbursement"]] = [used[i] - back[i] for i in range(len(used))]
        elif kind == "premium.paid":
            left = payload["amount_rupiah"]
            for quota in quotas[payload["batch"]]:
                take = min(left, quota[2])
                quota[2] -= take
                left -= take
                if index not in reversed_premiums:
                    funded[quota[1]] += take
    return {company: amount for company, amount in funded.items() if amount}


def statements_agree(ledger, runner) -> None:
    """The views' statement figures equal the pure accumulator's (what `amanah verify
    --statement` recomputes) for every company and period, and company figures add up."""
    entries = [parse_stored_entry(leaf) for start in range(0, ledger.size(), 1000)
               for _, leaf in ledger.entries(start, min(1000, ledger.size() - start))]
    for period_name in ("2025", "2025-H1"):
        period = parse_period(period_name)
        with runner.engine.connect() as connection:
            views = {company: statement_figures(connection, company, period) for company in COMPANIES}
            totals = programme_totals(connection)
        for company in COMPANIES:
            accumulator = StatementAccumulator(company, period)
            for entry in entries:
                accumulator.feed(entry)
            assert accumulator.figures() == views[company], company
            with runner.engine.connect() as connection:
                assert accumulator.entries == statement_entries(connection, company, period), company
        assert sum(figures["worker_months"] for figures in views.values()) == totals["worker_months"]
        hundredths = sum(int(figures["full_year_equivalent_workers"].replace(".", "")) for figures in views.values())
        assert hundredths == int(totals["full_year_equivalent_workers"].replace(".", ""))
        assert sum(figures["premiums_funded_rupiah"] for figures in views.values()) == totals["premiums_rupiah"]
        if period_name == "2025":
            awards_agree(entries, views)


def awards_agree(entries: list, views: dict) -> None:
    """The award figures `amanah verify` recomputes (fed every entry, as the writer does; and
    replayed from the trail the verifier keeps) equal the views' year figures."""
    fed, replayed, trail = AwardAccumulator({2025}), AwardAccumulator({2025}), AwardTrail()
    for position, entry in enumerate(entries):
        fed.feed(entry)
        trail.feed(position, entry)
    assert list(trail.replay(replayed, [len(entries)])) == [len(entries)]
    assert fed.figures(2025) == replayed.figures(2025)
    recomputed = {row.company: (row.received_rupiah, row.worker_months, row.premiums_funded_rupiah)
                  for row in fed.figures(2025)}
    assert recomputed == {company: (figures["received_rupiah"], figures["worker_months"],
                                    figures["premiums_funded_rupiah"])
                          for company, figures in views.items() if figures["received_rupiah"]}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(command, min_size=4, max_size=18))
def test_random_histories_keep_every_invariant_and_the_views_match(steps):
    with tempfile.TemporaryDirectory() as directory:
        world = World(directory)
        try:
            for step in SETUP + steps:
                before = (world.ledger.size(), world.ledger.latest_checkpoint()["root"])
                try:
                    world.run(step)
                except LedgerError:
                    assert (world.ledger.size(), world.ledger.latest_checkpoint()["root"]) == before
            report = verify_database(world.ledger)
            assert report.ok, [str(failure) for failure in report.failures[:3]]
            assert sum(report.balances.values()) == 0
            assert all(amount >= 0 for name, amount in report.balances.items() if name.startswith("baznas:restricted:"))
            donations = -sum(amount for name, amount in report.balances.items() if name.startswith("donations:"))
            held = sum(amount for name, amount in report.balances.items() if name.startswith("baznas:restricted:"))
            assert donations == report.balances.get("baznas:amil", 0) + held + report.balances.get(
                "bpjs:premium_fund", 0) + report.balances.get("coverage:premiums", 0)
            expected_accounts, expected_totals = recompute(world.ledger)
            runner = ProjectionRunner(world.ledger)
            runner.run()
            with runner.engine.connect() as connection:
                views = balances(connection)["accounts"]
                totals = programme_totals(connection)
            assert {name: amount for name, amount in views.items() if not name.startswith("pledge:")} == \
                {name: amount for name, amount in expected_accounts.items()}
            funded = expected_totals.pop("funded_by_company")
            for name, value in expected_totals.items():
                assert totals[name] == value, name
            with runner.engine.connect() as connection:
                from sqlalchemy import func, select

                from projections import tables as t

                join = t.premium_shares.join(t.premiums, t.premiums.c.entry_index == t.premium_shares.c.entry_index)
                view_funded = dict(connection.execute(
                    select(t.premium_shares.c.company, func.sum(t.premium_shares.c.amount_rupiah)).select_from(join)
                    .where(t.premiums.c.reversed.is_(False), t.premiums.c.refunded.is_(False))
                    .group_by(t.premium_shares.c.company)).all())
            assert {company: int(amount) for company, amount in view_funded.items() if amount} == funded
            statements_agree(world.ledger, runner)
            runner.close()
        finally:
            world.ledger.close()
