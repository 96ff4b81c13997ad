"""Random histories of the money flow against a small model of the rules.

Hypothesis draws sequences of commands (pledges, receipts too large for their pledge, receipts
with their amil share in one submission, amil shares over the cap, overdrawing disbursements,
enrolments, premium batches with duplicate and unknown workers, reversals of receipts and
disbursements) and submits each to a fresh in-memory kernel ledger (tests/kernel.py: the writer's rule code, no
database) after a fixed preamble. The model says whether each
command must be accepted; a refused one must leave the log size and latest checkpoint as they
were. At the end the database verifies, no restricted fund is negative, every rupiah given is
accounted for (donations = amil + restricted + premium fund + premiums) and the trial balance is
zero."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import payloads, signing
from ledger.client import Signer
from ledger.config import Settings
from ledger.domain.rates import default_rules, premium_for
from ledger.domain.workers import worker_uuid
from ledger.errors import LedgerError
from tests.conftest import genesis_submission
from tests.domain.conftest import PROGRAMME, snapshot
from tests.kernel import KernelLedger

COMPANIES = ("pt-maju-bersama", "pt-sinar-laut")
BPJS = "bpjs-kelapa-gading"
MONTHS = ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06")
KNOWN_NIKS = 6  # NIKs 0..5 may be enrolled; 6 and 7 never are
RULES = default_rules()
AMIL_CAP = RULES["amil_cap_basis_points"]["infak"]


# ---- the world, built without the parametrised fixtures ----------------------------------

class World:
    def __init__(self, directory: Path):
        directory.mkdir(parents=True)
        self.settings = Settings.from_environment({"AMANAH_HOME": str(directory)})
        checkpoint_key = signing.generate()
        self.ledger = KernelLedger(self.settings.origin, secrets.token_bytes(32))
        self.registrar = Signer(self.settings.origin, "registrar", signing.generate())
        self.ledger.submit(genesis_submission(self.settings, self.registrar, checkpoint_key))
        self.counter = 0
        self.signers = {name: self.register(name, kind) for name, kind in (
            ("pemkot-jakarta-utara", "city"), ("baznas-jakarta-utara", "baznas"), (BPJS, "bpjs"),
            (COMPANIES[0], "company"), (COMPANIES[1], "company"))}
        self.city, self.baznas, self.bpjs = (self.signers[n] for n in ("pemkot-jakarta-utara",
                                                                        "baznas-jakarta-utara", BPJS))
        self.submit(self.city, [("programme.opened", payloads.programme_opened(PROGRAMME, 2025))])

    def register(self, organisation: str, kind: str) -> Signer:
        key = signing.generate()
        self.ledger.submit(self.registrar.one(f"register-{organisation}", "organisation.registered",
                                              "2025-01-02T00:00:00Z", {
            "organisation": organisation, "legal_name": organisation.upper(), "kind": kind,
            "public_key": signing.b64encode(signing.public_key_bytes(key))}))
        return Signer(self.settings.origin, organisation, key)

    def submit(self, signer: Signer, events: list[tuple[str, dict]]) -> dict:
        self.counter += 1
        return self.ledger.submit(signer.submission(
            f"cmd-{self.counter}", [(kind, "2025-06-01T08:00:00Z", payload) for kind, payload in events]))

    def reference(self, nik: int) -> str:
        return hashlib.sha256(f"worker {nik}".encode()).hexdigest()  # enrolled without personal data


# ---- the model ------------------------------------------------------------------------------

@dataclass
class Receipt:
    company: str
    amount: int
    pledge: str | None
    index: int
    amil: int = 0
    drawn: int = 0
    reversed: bool = False

    @property
    def available(self) -> int:
        return 0 if self.reversed else self.amount - self.amil - self.drawn


@dataclass
class Disbursement:
    amount: int
    sources: list[tuple[str, int]]
    index: int
    charged: int = 0
    reversed: bool = False


@dataclass
class Model:
    pledges: dict[str, list] = field(default_factory=dict)  # id -> [company, amount, received]
    receipts: dict[str, Receipt] = field(default_factory=dict)
    disbursements: dict[str, Disbursement] = field(default_factory=dict)
    workers: dict[int, dict] = field(default_factory=dict)  # nik -> {month, jht, paid}
    amil: int = 0
    premiums: int = 0


def pick(collection: dict, choice: int, missing: str) -> str:
    keys = list(collection)
    return keys[choice % len(keys)] if keys else missing


# ---- commands: each returns (expected to be accepted, events, signer, on_accept) --------

def pledge(world, model, n, company, amount):
    pledge_id = f"pl-{n}"

    def accept(result):
        model.pledges[pledge_id] = [COMPANIES[company], amount, 0]
    return True, world.signers[COMPANIES[company]], [
        ("pledge.made", payloads.pledge(PROGRAMME, pledge_id, amount))], accept


def receive(world, model, n, company, amount, pledge_choice):
    receipt_id, company_id = f"rc-{n}", COMPANIES[company]
    pledge_id = None if pledge_choice is None or not model.pledges else pick(model.pledges, pledge_choice, "")
    ok = True
    if pledge_id is not None:
        owner, promised, received = model.pledges[pledge_id]
        ok = owner == company_id and amount <= promised - received

    def accept(result):
        model.receipts[receipt_id] = Receipt(company_id, amount, pledge_id, result["first_index"])
        if pledge_id is not None:
            model.pledges[pledge_id][2] += amount
    return ok, world.baznas, [("donation.received", payloads.receipt(
        PROGRAMME, receipt_id, company_id, amount, "2025-02-03", pledge_id))], accept


def receive_with_amil(world, model, n, company, amount, pledge_choice, share):
    """A receipt and its amil share in one submission: both stored, or neither."""
    ok, signer, events, accept_receipt = receive(world, model, n, company, amount, pledge_choice)
    receipt_id, company_id = events[0][1]["receipt"], events[0][1]["company"]
    ok = ok and share <= amount * AMIL_CAP // 10_000

    def accept(result):
        accept_receipt(result)
        model.receipts[receipt_id].amil += share
        model.amil += share
    return ok, signer, [*events, ("amil.set_aside", {"programme": PROGRAMME, "receipt": receipt_id,
                                                     "company": company_id, "amount_rupiah": share})], accept


def amil(world, model, n, choice, amount):
    receipt_id = pick(model.receipts, choice, "rc-none")
    receipt = model.receipts.get(receipt_id)
    ok = (receipt is not None and not receipt.reversed
          and receipt.amil + amount <= receipt.amount * AMIL_CAP // 10_000 and amount <= receipt.available)
    company = receipt.company if receipt else COMPANIES[0]

    def accept(result):
        receipt.amil += amount
        model.amil += amount
    return ok, world.baznas, [("amil.set_aside", {"programme": PROGRAMME, "receipt": receipt_id,
                                                  "company": company, "amount_rupiah": amount})], accept


def disburse(world, model, n, draws):
    disbursement_id = f"ds-{n}"
    sources, ok, seen = [], True, set()
    for choice, amount, wrong_company in draws:
        receipt_id = pick(model.receipts, choice, "rc-none")
        receipt = model.receipts.get(receipt_id)
        company = receipt.company if receipt else COMPANIES[0]
        if wrong_company:
            company = COMPANIES[1] if company == COMPANIES[0] else COMPANIES[0]
        ok = ok and receipt is not None and not receipt.reversed and receipt_id not in seen \
            and company == receipt.company and amount <= receipt.available
        seen.add(receipt_id)
        sources.append((receipt_id, company, amount))

    def accept(result):
        for receipt_id, _, amount in sources:
            model.receipts[receipt_id].drawn += amount
        model.disbursements[disbursement_id] = Disbursement(
            sum(amount for _, _, amount in sources), [(r, a) for r, _, a in sources], result["first_index"])
    return ok, world.baznas, [("disbursement.made", payloads.disbursement(
        PROGRAMME, disbursement_id, BPJS, "2025-03", "2025-03-01", sources))], accept


def enrol(world, model, n, nik, month, jht):
    ok = nik not in model.workers

    def accept(result):
        model.workers[nik] = {"month": month, "jht": jht, "paid": {}, "died_on": None}
    return ok, world.bpjs, [("worker.enrolled", payloads.enrolment(
        PROGRAMME, world.reference(nik), "ojek_online", "Kelapa Gading Barat", f"{month}-10", jht=jht))], accept


def pay(world, model, n, choice, month, niks):
    disbursement_id = pick(model.disbursements, choice, "ds-none")
    disbursement = model.disbursements.get(disbursement_id)
    lines = []
    for nik in niks:
        jht = model.workers.get(nik, {}).get("jht", False)
        lines.append({"worker": world.reference(nik), "income_rupiah": 1_000_000, "category": "ojek_online",
                      "jht": jht})
    enrolled = [f"{model.workers[nik]['month']}-10" for nik in niks if nik in model.workers]
    paid_on = max([f"{month}-01", "2025-03-01", *enrolled])  # after the money and the enrolment
    events = payloads.premium_batch(PROGRAMME, f"b-{n}", disbursement_id, month, lines, paid_on=paid_on)
    total = events[0][1]["total_rupiah"]
    ok = (disbursement is not None and not disbursement.reversed
          and total <= disbursement.amount - disbursement.charged
          and len(set(niks)) == len(niks)
          and all(nik in model.workers and month >= model.workers[nik]["month"]
                  and month not in model.workers[nik]["paid"]
                  and month <= (model.workers[nik]["died_on"] or "9999")[:7]
                  and not _lapsed(model.workers[nik], month) for nik in niks))

    def accept(result):
        disbursement.charged += total
        model.premiums += total
        for nik in niks:
            model.workers[nik]["paid"][month] = paid_on
    return ok, world.bpjs, events, accept


def die(world, model, n, nik, month, day):
    """A JKM claim for a death on `day` of `month`: accepted only on cover paid before it."""
    incident = f"{month}-{day:02d}"
    worker = model.workers.get(nik)
    paid_on = worker["paid"].get(month) if worker else None
    ok = (worker is not None and worker["died_on"] is None and incident >= f"{worker['month']}-10"
          and paid_on is not None and paid_on <= incident)

    def accept(result):
        worker["died_on"] = incident
    return ok, world.bpjs, [("claim.filed", payloads.claim(
        PROGRAMME, f"jkm-{n}", world.reference(nik), "jkm", incident_on=incident, filed_on=incident))], accept


def _lapsed(worker: dict, month: str) -> bool:
    """More than three months unpaid in a row since the enrolment, just before `month`."""
    run, current = 0, MONTHS.index(month) - 1
    while current >= 0 and MONTHS[current] >= worker["month"] and MONTHS[current] not in worker["paid"]:
        run, current = run + 1, current - 1
    return run > 3


def reversal(kind: str, entry: int, reference: dict) -> list[tuple[str, dict]]:
    return [("entry.reversed", {"programme": PROGRAMME, "entry": entry, "reverses": kind,
                                "reference": reference, "reason_code": "data_entry_error", "note": "test"})]


def reverse_receipt(world, model, n, choice):
    receipt_id = pick(model.receipts, choice, "rc-none")
    receipt = model.receipts.get(receipt_id)
    ok = receipt is not None and not receipt.reversed and receipt.drawn == 0 and receipt.amil == 0

    def accept(result):
        receipt.reversed = True
        if receipt.pledge:
            model.pledges[receipt.pledge][2] -= receipt.amount
    return ok, world.baznas, reversal("donation.received", receipt.index if receipt else 0,
                                      {"receipt": receipt_id}), accept


def reverse_disbursement(world, model, n, choice):
    disbursement_id = pick(model.disbursements, choice, "ds-none")
    disbursement = model.disbursements.get(disbursement_id)
    ok = disbursement is not None and not disbursement.reversed and disbursement.charged == 0

    def accept(result):
        disbursement.reversed = True
        for receipt_id, amount in disbursement.sources:
            model.receipts[receipt_id].drawn -= amount
    return ok, world.baznas, reversal("disbursement.made", disbursement.index if disbursement else 0,
                                      {"disbursement": disbursement_id}), accept


# ---- strategies ---------------------------------------------------------------------------

company = st.integers(0, 1)
choice = st.integers(0, 50)
money = st.one_of(st.integers(1, 60_000_000), st.sampled_from([16_800, 36_800, 50_400, 168_000, 8_000_000]))
draw = st.one_of(st.sampled_from([16_800, 33_600, 50_400, 168_000, 336_000]), st.integers(1, 60_000_000))
workers = st.one_of(
    st.lists(st.integers(0, KNOWN_NIKS - 1), min_size=1, max_size=3, unique=True),  # mostly payable
    st.lists(st.integers(0, KNOWN_NIKS + 1), min_size=1, max_size=4),  # duplicates and strangers
)
commands = st.one_of(
    st.tuples(st.just(pledge), company, st.integers(1, 50_000_000)),
    st.tuples(st.just(receive), company, money, st.one_of(st.none(), choice)),
    st.tuples(st.just(receive_with_amil), company, money, st.one_of(st.none(), choice),
              st.integers(1, 12_000_000)),
    st.tuples(st.just(amil), choice, st.one_of(st.integers(1, 15_000_000), st.integers(1, 100_000))),
    st.tuples(st.just(disburse), st.lists(st.tuples(choice, draw, st.sampled_from([False, False, False, True])),
                                          min_size=1, max_size=3)),
    st.tuples(st.just(enrol), st.integers(0, KNOWN_NIKS - 1), st.sampled_from(MONTHS[:3]), st.booleans()),
    st.tuples(st.just(pay), choice, st.sampled_from(MONTHS), workers),
    st.tuples(st.just(pay), choice, st.sampled_from(MONTHS), workers),
    st.tuples(st.just(die), st.integers(0, KNOWN_NIKS - 1), st.sampled_from(MONTHS), st.integers(1, 28)),
    st.tuples(st.just(reverse_receipt), choice),
    st.tuples(st.just(reverse_disbursement), choice),
)
# A pledge, money in, three drivers enrolled and Rp504,000 at BPJS (30 worker-months) before the random part.
PREAMBLE = [
    (pledge, 0, 80_000_000),
    (receive, 0, 50_000_000, 0),
    (receive, 1, 30_000_000, None),
    (enrol, 0, "2025-01", False),
    (enrol, 1, "2025-01", True),
    (enrol, 2, "2025-02", False),
    (disburse, [(0, 504_000, False)]),
]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=st.lists(commands, min_size=8, max_size=40))
def test_random_histories_keep_every_rupiah_accounted_for(tmp_path, history):
    world, model = World(tmp_path / uuid.uuid4().hex), Model()
    try:
        for n, (command, *arguments) in enumerate([*PREAMBLE, *history]):
            expected, signer, events, accept = command(world, model, n, *arguments)
            before = snapshot(world.ledger)
            try:
                result = world.submit(signer, events)
            except LedgerError as error:
                assert not expected, f"command {n} {command.__name__}{tuple(arguments)} refused: {error!r}"
                assert snapshot(world.ledger) == before, f"refused command {n} stored something"
                continue
            assert expected, f"command {n} {command.__name__}{tuple(arguments)} was accepted"
            assert result["count"] == len(events)
            accept(result)
        check_totals(world.ledger, model)
        check_cover(world, model)
    finally:
        world.ledger.close()


def check_totals(ledger, model: Model) -> None:
    report = ledger.verify()
    assert report.ok, [str(failure) for failure in report.failures]
    totals = report.balances
    for account, balance in totals.items():
        if account.startswith(("baznas:restricted:", "bpjs:premium_fund", "baznas:amil", "pledge:outstanding:")):
            assert balance >= 0, (account, balance)
    given_total = -sum(balance for account, balance in totals.items() if account.startswith("donations:"))
    restricted = sum(balance for account, balance in totals.items() if account.startswith("baznas:restricted:"))
    amil_total, fund = totals.get("baznas:amil", 0), totals.get("bpjs:premium_fund", 0)
    premiums = totals.get("coverage:premiums", 0)
    assert given_total == amil_total + restricted + fund + premiums
    assert sum(totals.values()) == 0
    # and the ledger's totals are the model's
    live = [r for r in model.receipts.values() if not r.reversed]
    assert given_total == sum(r.amount for r in live)
    assert amil_total == model.amil == sum(r.amil for r in live)
    assert premiums == model.premiums
    assert fund == sum(d.amount - d.charged for d in model.disbursements.values() if not d.reversed)
    for company_id in COMPANIES:
        held = sum(r.available for r in live if r.company == company_id)
        assert totals.get(f"baznas:restricted:{company_id}", 0) == held
        outstanding = sum(max(amount - received, 0) for owner, amount, received in model.pledges.values()
                          if owner == company_id)
        assert totals.get(f"pledge:outstanding:{company_id}", 0) == outstanding


def check_cover(world, model: Model) -> None:
    """No live premium for a month after a death; every claim rests on cover paid before it."""
    for nik in model.workers:
        worker = world.ledger.repository.get(worker_uuid(world.reference(nik)))
        if worker.died_on:
            assert all(month <= worker.died_on[:7] for month, paid in worker.paid.items() if paid.live)
        claim = worker.death_claim
        if claim is not None:
            assert worker.paid[claim.incident_on[:7]].paid_on <= claim.incident_on


def test_the_model_agrees_with_the_rate_table():
    assert premium_for(RULES, 1_000_000, "ojek_online", "2025-03", False).amount_rupiah == 16_800
    assert premium_for(RULES, 1_000_000, "ojek_online", "2025-03", True).amount_rupiah == 36_800
