"""`amanah demo`: the North Jakarta 2025 programme as a live, signed ledger, deterministic from a seed.

Every fact enters through `Ledger.submit`, the path the API's POST /submissions uses, each
party signing with its own key: a registrar, the city, Baznas, the BPJS Kelapa Gading branch,
an auditor and 46 companies the city invited, of which 21 pledge and pay; 11,860 workers in two
kelurahan; monthly disbursements, acknowledgements and premium batches, each paid before the
15th of the month it covers; the Rp42,000,000 JKM benefit, a short-membership death
(Rp10,000,000), an advance premium refunded after a death, a JKK claim, a rejected claim, an
amil share on infak, a pledge amended upwards, a reversal and an erasure. Every fact obeys the
rules (cover paid before any incident, no premium after a death). Keys are written unencrypted
under HOME/demo-keys: demo only."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from ledger import note, payloads, personal, personal_keys, signing
from ledger.application import Ledger
from ledger.award_check import ranking_at
from ledger.client import Signer, public_key_b64
from ledger.config import Settings
from ledger.domain.attribution import line_funders
from ledger.domain.awards import DEFAULT_CRITERIA
from ledger.domain.common import aggregate_uuid
from ledger.domain.rates import default_rules, premium_for
from ledger.domain.workers import worker_uuid
from api.witness_demo import witness_demo

PROGRAMME = "sertakan-jakut-2025"
WORKERS = 11_860
CONTRIBUTORS = 21
INVITED = 46
KELURAHAN = ("Kelapa Gading Barat", "Kelapa Gading Timur")
CATEGORY_WEIGHTS = (("ojek_online", 56), ("dasawisma", 38), ("jumantik", 3), ("pedagang_asongan", 3))
MONTHS = [f"2025-{month:02d}" for month in range(1, 13)]
WORDS = ("Samudera", "Nusantara", "Bahari", "Cahaya", "Mitra", "Karya", "Sentosa", "Maju", "Jaya", "Abadi",
         "Sinar", "Bintang", "Putra", "Tirta", "Garuda", "Mandiri", "Makmur", "Sejahtera", "Utama", "Lestari")
SECTORS = ("Logistik", "Terminal Peti Kemas", "Properti", "Energi", "Perkapalan", "Pangan", "Baja", "Kimia",
           "Ritel", "Konstruksi", "Galangan Kapal", "Farmasi", "Tekstil", "Pergudangan", "Otomotif")
GIVEN = ("Budi", "Siti", "Agus", "Dewi", "Rudi", "Sri", "Andi", "Wati", "Joko", "Nur", "Yusuf", "Rina", "Hendra",
         "Ani", "Eko", "Lestari", "Bambang", "Fitri", "Dedi", "Yanti")
FAMILY = ("Santoso", "Wijaya", "Saputra", "Hidayat", "Kusuma", "Pratama", "Setiawan", "Nugroho", "Purnomo",
          "Siregar", "Simanjuntak", "Lubis", "Hasibuan", "Rahman", "Gunawan")
Progress = Callable[[int, int], None]


@dataclass
class DemoWorld:
    ledger: Ledger
    settings: Settings
    signers: dict[str, Signer]
    secret: bytes
    rng: random.Random
    counter: int = 0
    workers: list[dict] = field(default_factory=list)
    claims: list[tuple] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    def submit(self, who: str, events: list[tuple[str, dict]], occurred_on: str, personal_data: dict | None = None) -> dict:
        self.counter += 1
        document = self.signers[who].submission(f"demo-{self.counter:05d}",
                                                [(kind, f"{occurred_on}T09:00:00Z", payload) for kind, payload in events])
        if personal_data:
            document["personal"] = personal_data
        return self.ledger.submit(document)


def build_demo(settings: Settings, seed: int = 2025, progress: Progress | None = None) -> dict:
    """Create the demo ledger in an empty database; returns the facts a newcomer can check."""
    progress = progress or (lambda done, total: None)
    rng = random.Random(seed)
    keys_dir = settings.home / "demo-keys"
    checkpoint_key = _key(settings.checkpoint_key_path)
    personal.create_secret(settings.pseudonym_secret_path)
    personal_keys.create_kek(settings.personal_kek_path)
    secret = personal.read_secret(settings.pseudonym_secret_path)
    ledger = Ledger(settings, checkpoint_key, secret)
    if ledger.size():
        raise SystemExit("the demo needs an empty database; this one has entries")
    world = DemoWorld(ledger, settings, {}, secret, rng)
    _organisations(world, keys_dir, checkpoint_key)
    progress(1, 16)
    _money_in(world)
    progress(2, 16)
    _enrol(world)
    progress(3, 16)
    for number, month in enumerate(MONTHS):
        if month == "2025-10":
            _pledge_raised(world)
        if month == "2025-11":
            _second_gift(world)
        _month(world, month)
        _claims_of(world, month)
        progress(4 + number, 16)
    _corrections(world)
    _award_decision(world)
    world.facts["witnesses"] = witness_demo(settings.home, ledger, checkpoint_key)
    progress(16, 16)
    (settings.home / "demo-facts.json").write_text(json.dumps(world.facts, indent=2) + "\n")
    return world.facts


def _key(path: Path):
    if not path.exists():
        signing.write_private_key(signing.generate(), path, None)
    return signing.read_private_key(path, None)


def _organisations(world: DemoWorld, keys_dir: Path, checkpoint_key) -> None:
    origin = world.settings.origin
    organisations = [("registrar", "Sekretariat Registrasi Program SERTAKAN Jakarta Utara", "registrar"),
                     ("pemkot-jakarta-utara", "Pemerintah Kota Administrasi Jakarta Utara", "city"),
                     ("baznas-jakarta-utara", "BAZNAS Kota Jakarta Utara", "baznas"),
                     ("bpjs-kelapa-gading", "BPJS Ketenagakerjaan Kantor Cabang Kelapa Gading", "bpjs"),
                     ("auditor-baznas", "Satuan Audit Internal BAZNAS", "auditor"),
                     ("forum-csr-jakarta-utara", "Forum CSR Jakarta Utara", "auditor")]
    names = set()
    while len(names) < INVITED:
        names.add(f"PT {world.rng.choice(WORDS)} {world.rng.choice(WORDS)} {world.rng.choice(SECTORS)}")
    for number, name in enumerate(sorted(names), 1):
        organisations.append((f"company-{number:02d}", name, "company"))
    for organisation, legal_name, kind in organisations:
        key = signing.generate()
        signing.write_private_key(key, keys_dir / f"{organisation}.key", None)
        world.signers[organisation] = Signer(origin, organisation, key)
        if kind == "registrar":
            world.submit("registrar", [("ledger.created", {
                "organisation": organisation, "legal_name": legal_name, "public_key": public_key_b64(key),
                "checkpoint_key": note.verifier_key(origin, signing.public_key_bytes(checkpoint_key))})], "2025-01-02")
        else:
            world.submit("registrar", [("organisation.registered", {
                "organisation": organisation, "legal_name": legal_name, "kind": kind,
                "public_key": public_key_b64(key)})], "2025-01-02")
    world.facts["companies_invited"] = INVITED
    world.submit("pemkot-jakarta-utara", [("programme.opened", payloads.programme_opened(PROGRAMME, 2025))],
                 "2025-01-03")
    world.submit("pemkot-jakarta-utara", [("company.invited", payloads.invitation(
        PROGRAMME, f"company-{number:02d}", "2025-01-03")) for number in range(1, INVITED + 1)], "2025-01-03")
    # The city publishes how it will rank the year's contributors before the money comes in.
    result = world.submit("pemkot-jakarta-utara", [("award.criteria_published", {
        "year": 2025, "published_on": "2025-01-03", **DEFAULT_CRITERIA,
        "note": "Piagam Wali Kota untuk perusahaan peserta SERTAKAN 2025"})], "2025-01-03")
    world.facts["award_criteria_entry"] = result["first_index"]


def _money_in(world: DemoWorld) -> list[str]:
    """21 contributors whose receipts cover the year's premiums: some paid in instalments (the
    first before January's premiums are due), one company giving twice (a second gift in
    November, partly unspent at year end), one raising its pledge in October."""
    rng = world.rng
    companies = sorted(rng.sample([f"company-{n:02d}" for n in range(1, INVITED + 1)], CONTRIBUTORS))
    weights = [rng.choice((1, 1, 2, 2, 3, 4, 6, 10)) for _ in companies]
    target = _premiums_needed(world) - (SECOND_GIFT - SECOND_GIFT_AMIL - SECOND_GIFT_UNSPENT)
    amounts = [max(target * weight // sum(weights) // 1_000_000, 20) * 1_000_000 for weight in weights]
    largest = max(range(len(companies)), key=lambda position: (weights[position], -position))
    amounts[largest] += target - sum(amounts)  # the largest donor's pledge makes the total exact
    world.facts.update(contributors=companies, pledged_by_company=dict(zip(companies, amounts, strict=True)))
    receipts = 0
    for position, (company, amount) in enumerate(zip(companies, amounts, strict=True)):
        pledge_day = f"2025-01-{2 + position % 4:02d}"
        world.submit(company, [("pledge.made", payloads.pledge(PROGRAMME, f"pledge-{company}-1", amount,
                                                               pledged_on=pledge_day))], pledge_day)
        parts = 1 if amount < 60_000_000 else rng.choice((1, 2, 3))
        for part in range(parts):
            share = amount // parts if part < parts - 1 else amount - amount // parts * (parts - 1)
            receipts += 1
            day = f"2025-{1 + part * 3:02d}-{6 + position % 4:02d}"  # January, April, July
            world.submit("baznas-jakarta-utara", [("donation.received", payloads.receipt(
                PROGRAMME, f"rcpt-2025-{receipts:03d}", company, share, day, f"pledge-{company}-1"))], day)
    world.facts["raised_pledge"] = companies[3]
    world.facts["gave_twice"] = companies[0]
    return companies


SECOND_GIFT, SECOND_GIFT_AMIL, SECOND_GIFT_UNSPENT = 150_000_000, 7_500_000, 42_500_000
RAISE = 30_000_000


def _pledge_raised(world: DemoWorld) -> None:
    """A company raises its pledge in October, with a reason, and pays the difference."""
    company = world.facts["raised_pledge"]
    pledged = world.facts["pledged_by_company"][company]
    world.submit(company, [("pledge.amended", {"programme": PROGRAMME, "pledge": f"pledge-{company}-1",
                                               "amount_rupiah": pledged + RAISE, "previous_rupiah": pledged,
                                               "reason": "tambahan anggaran TJSL disetujui direksi"})], "2025-10-01")
    world.submit("baznas-jakarta-utara", [("donation.received", payloads.receipt(
        PROGRAMME, "rcpt-2025-raise", company, RAISE, "2025-10-06", f"pledge-{company}-1"))], "2025-10-06")


def _second_gift(world: DemoWorld) -> None:
    """A second gift in November, of which Baznas keeps a 5% amil share (infak: the cap is
    20%, Peraturan BAZNAS 1/2016 Pasal 8)."""
    giver = world.facts["gave_twice"]
    world.submit(giver, [("pledge.made", payloads.pledge(PROGRAMME, f"pledge-{giver}-2", SECOND_GIFT,
                                                         pledged_on="2025-11-03"))], "2025-11-03")
    world.submit("baznas-jakarta-utara", [("donation.received", payloads.receipt(
        PROGRAMME, "rcpt-2025-gift-2", giver, SECOND_GIFT, "2025-11-04", f"pledge-{giver}-2"))], "2025-11-04")
    world.submit("baznas-jakarta-utara", [("amil.set_aside", {
        "programme": PROGRAMME, "receipt": "rcpt-2025-gift-2", "company": giver,
        "amount_rupiah": SECOND_GIFT_AMIL})], "2025-11-04")
    world.facts["amil_rupiah"] = SECOND_GIFT_AMIL


def _premiums_needed(world: DemoWorld) -> int:
    rules = default_rules()
    if not world.workers:
        _plan_workers(world)
    return sum(premium_for(rules, w["income_rupiah"], w["category"], month, w["jht"]).amount_rupiah
               for w in world.workers for month in MONTHS if _payable(w, month))


def _payable(worker: dict, month: str) -> bool:
    """Enrolled by then and alive: no premium for a month after a death."""
    return worker["enrolled_on"][:7] <= month and month <= worker.get("died_on", "9999")[:7]


def _plan_workers(world: DemoWorld) -> None:
    rng = world.rng
    # References are random (ledger/personal.py), drawn from their own generator seeded from the
    # demo's, so the demo stays deterministic and its other draws stay what they were.
    references = random.Random(repr(rng.getstate()[1][:8]))
    categories = [name for name, weight in CATEGORY_WEIGHTS for _ in range(weight)]
    for number in range(WORKERS):
        nik = _north_jakarta_nik(rng.randrange(10**11, 10**12))
        month = 1 if number < 9_000 else 2 + (number - 9_000) * 6 // (WORKERS - 9_000)  # Jan, then to Jul
        world.workers.append({
            "nik": nik, "worker": f"{references.getrandbits(256):064x}", "category": rng.choice(categories),
            "kelurahan": KELURAHAN[number % 2], "jht": rng.random() < 0.06, "income_rupiah": 1_000_000,
            "enrolled_on": f"2025-{month:02d}-{2 + number % 6:02d}",  # before the month's premium is paid
            "name": f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}", "phone": f"08{rng.randrange(10**9, 10**10)}"})
    _fix_duplicate_niks(world)
    _plan_claims(world)


def _north_jakarta_nik(number: int) -> str:
    """A well-formed NIK (ledger/nik.py) from a random number: Kota Jakarta Utara (3172) and one of
    its six districts, a birth date from 1960 to 2006 (a woman's day + 40), a serial from 0001."""
    district, woman = 1 + number % 6, (number // 6) % 2 == 1
    year, month, day = 1960 + (number // 12) % 47, 1 + (number // 564) % 12, 1 + (number // 6_768) % 28
    serial = 1 + (number // 189_504) % 9_999
    return f"3172{district:02d}{day + 40 * woman:02d}{month:02d}{year % 100:02d}{serial:04d}"


def _fix_duplicate_niks(world: DemoWorld) -> None:
    seen: set[str] = set()
    for worker in world.workers:
        while worker["nik"] in seen:  # the next serial number, 9999 wrapping to 0001
            worker["nik"] = worker["nik"][:12] + f"{int(worker['nik'][12:]) % 9_999 + 1:04d}"
        seen.add(worker["nik"])


def _enrol(world: DemoWorld) -> None:
    by_month: dict[str, list[dict]] = {}
    for worker in world.workers:
        by_month.setdefault(worker["enrolled_on"][:7], []).append(worker)
    for month, group in sorted(by_month.items()):
        for start in range(0, len(group), 5_000):
            chunk = group[start:start + 5_000]
            world.submit("bpjs-kelapa-gading", [("worker.enrolled", payloads.enrolment(
                PROGRAMME, w["worker"], w["category"], w["kelurahan"], w["enrolled_on"], w["income_rupiah"], w["jht"]))
                for w in chunk], f"{month}-01",
                {str(i): {"nik": w["nik"], "name": w["name"], "phone": w["phone"]} for i, w in enumerate(chunk)})
    world.facts["workers_enrolled"] = len(world.workers)


def _month(world: DemoWorld, month: str) -> None:
    """Baznas disburses exactly the month's premiums on the 10th, drawing receipts oldest
    first; BPJS acknowledges, then pays the month's batch before the 15th, when it is due."""
    covered = [w for w in world.workers if _payable(w, month) and month not in w.get("paid_ahead", ())]
    _pay(world, f"premi-{month}", f"disb-{month}", month, covered, f"{month}-10", _weekday_from(f"{month}-11"))


def _pay(world: DemoWorld, batch: str, disbursement: str, month: str, workers: list[dict], made_on: str,
         paid_on: str) -> None:
    lines = payloads.premium_batch(PROGRAMME, batch, disbursement, month, workers, paid_on=paid_on)
    total = lines[0][1]["total_rupiah"]
    sources = _draw(world, total, made_on)
    world.submit("baznas-jakarta-utara", [("disbursement.made", payloads.disbursement(
        PROGRAMME, disbursement, "bpjs-kelapa-gading", month, made_on, sources))], made_on)
    world.submit("bpjs-kelapa-gading", [("disbursement.acknowledged", {
        "programme": PROGRAMME, "disbursement": disbursement, "amount_rupiah": total,
        "received_on": made_on})], made_on)
    world.submit("bpjs-kelapa-gading", lines, paid_on)


def _weekday_from(day: str) -> str:
    current = date.fromisoformat(day)
    while current.weekday() >= 5:
        current += timedelta(days=1)
    return current.isoformat()


def _draw(world: DemoWorld, total: int, day: str) -> list[tuple[str, str, int]]:
    programme = world.ledger.repository.get(aggregate_uuid("programme", PROGRAMME))
    sources, left = [], total
    for receipt_id, receipt in sorted(programme.receipts.items(), key=lambda item: (item[1].received_on, item[0])):
        if left == 0:
            break
        if receipt.received_on > day or receipt.available_rupiah <= 0:
            continue
        take = min(left, receipt.available_rupiah)
        sources.append((receipt_id, receipt.company, take))
        left -= take
    assert left == 0, f"not enough money received by {day} for Rp{total:,} of premiums"
    return sources


def _plan_claims(world: DemoWorld) -> None:
    """Who dies or is injured, decided before the money is planned: no premium is bought for a
    month after a death."""
    workers = world.workers
    driver = next(w for w in workers if w["category"] == "ojek_online" and w["enrolled_on"] < "2025-02")
    late = next(w for w in workers if w["enrolled_on"][:7] == "2025-07")
    accident = next(w for w in workers if w["category"] == "ojek_online" and w is not driver)
    rejected = next(w for w in workers if w["category"] == "dasawisma")
    driver["died_on"], late["died_on"] = "2025-06-14", "2025-08-22"
    driver["paid_ahead"] = ("2025-07",)  # July was paid in June, before the death: refunded
    world.claims = [  # (month, claim, worker, benefit, incident, amount, complete, paid)
        ("2025-06", "jkm-2025-001", driver, "jkm", "2025-06-14", 42_000_000, "2025-06-20", "2025-06-23"),
        ("2025-08", "jkm-2025-002", late, "jkm", "2025-08-22", 10_000_000, "2025-08-27", "2025-08-29"),
        ("2025-09", "jkk-2025-001", accident, "jkk", "2025-09-17", 15_750_000, "2025-09-24", "2025-09-30"),
        ("2025-10", "jkk-2025-002", rejected, "jkk", "2025-10-21", None, None, "2025-10-30")]
    world.facts.update(jkm_driver=driver["worker"], jkm_claim="jkm-2025-001", jkm_benefit_rupiah=42_000_000,
                       short_membership_claim="jkm-2025-002", jkk_claim="jkk-2025-001",
                       rejected_claim="jkk-2025-002")


def _claims_of(world: DemoWorld, month: str) -> None:
    """The month's claims, each on cover paid before its incident; after the driver's death
    in June, the July premium paid in advance goes back to the companies that paid it."""
    if month == "2025-06":
        driver = world.claims[0][2]
        _pay(world, "premi-2025-07-advance", "disb-2025-07-advance", "2025-07", [driver], "2025-06-10", "2025-06-11")
    for claim_month, claim_id, worker, benefit, incident, amount, complete, paid in world.claims:
        if claim_month == month:
            _claim(world, claim_id, worker, benefit, incident, amount, complete, paid)
    if month == "2025-06":
        _refund_advance(world, world.claims[0][2])


def _claim(world: DemoWorld, claim_id: str, worker: dict, benefit: str, incident: str, amount: int | None,
           complete: str | None, paid: str) -> None:
    bpjs = "bpjs-kelapa-gading"
    filed_on = (date.fromisoformat(incident) + timedelta(days=2)).isoformat()
    world.submit(bpjs, [("claim.filed", payloads.claim(PROGRAMME, claim_id, worker["worker"], benefit,
                                                        incident_on=incident, filed_on=filed_on))],
                 filed_on, {"0": {"name": f"Ahli waris {worker['name']}", "relationship": "spouse"}})
    if amount is None:
        world.submit(bpjs, [("claim.rejected", payloads.claim(PROGRAMME, claim_id, worker["worker"], benefit,
                                                               reason="incident was not work-related",
                                                               rejected_on=paid))], paid)
        return
    world.submit(bpjs, [("claim.approved", payloads.approval(PROGRAMME, claim_id, worker["worker"], benefit,
                                                              amount, complete, complete, default_rules()))], complete)
    result = world.submit(bpjs, [("claim.paid", payloads.claim(PROGRAMME, claim_id, worker["worker"], benefit,
                                                                amount_rupiah=amount, paid_on=paid))], paid)
    world.facts.setdefault("claim_paid_entries", {})[claim_id] = result["first_index"]


def _refund_advance(world: DemoWorld, worker: dict) -> None:
    programme = world.ledger.repository.get(aggregate_uuid("programme", PROGRAMME))
    paid = world.ledger.repository.get(worker_uuid(worker["worker"])).paid["2025-07"]
    funders = line_funders(programme.batch_quotas[paid.batch], [paid.amount_rupiah])
    world.submit("bpjs-kelapa-gading", [("premium.refunded", payloads.refund(
        PROGRAMME, worker["worker"], "2025-07", paid.index, paid.amount_rupiah, "2025-06-25", list(funders)))],
        "2025-06-25")
    world.facts["refunded_premium"] = {"worker": worker["worker"], "month": "2025-07", "entry": paid.index,
                                       "amount_rupiah": paid.amount_rupiah}


def _corrections(world: DemoWorld) -> None:
    # A receipt keyed twice by mistake, reversed by Baznas with a reason code.
    result = world.submit("baznas-jakarta-utara", [("donation.received", payloads.receipt(
        PROGRAMME, "rcpt-2025-dup", world.facts["contributors"][1], 25_000_000, "2025-11-03"))], "2025-11-03")
    world.submit("baznas-jakarta-utara", [("entry.reversed", {
        "programme": PROGRAMME, "entry": result["first_index"], "reverses": "donation.received",
        "reference": {"receipt": "rcpt-2025-dup"}, "reason_code": "duplicate",
        "note": "the same transfer was keyed twice"})], "2025-11-04")
    # An erasure request: the worker's personal data is destroyed; the log is untouched.
    erased = world.workers[-1]
    world.ledger.forget(f"worker:{erased['worker']}")
    world.facts.update(erased_worker=erased["worker"], reversed_receipt="rcpt-2025-dup",
                       tree_size=world.ledger.size())


def _award_decision(world: DemoWorld) -> None:
    """In January the city ranks 2025's contributors under its criteria at a signed checkpoint
    and publishes its decision, signed with its own key."""
    ledger = world.ledger
    checkpoint = ledger.sign_checkpoint()
    size = checkpoint["tree_size"]
    leaves = (leaf for start in range(0, size, 1000) for _, leaf in ledger.entries(start, min(1000, size - start)))
    awarded, reasons = ranking_at(leaves, size, 2025, DEFAULT_CRITERIA)
    result = world.submit("pemkot-jakarta-utara", [("award.decided", {
        "year": 2025, "criteria_entry": world.facts["award_criteria_entry"],
        "checkpoint": {"tree_size": size, "root": checkpoint["root"]}, "decided_on": "2026-01-20",
        "awarded": [{"rank": item.rank, "company": item.company, "tier": item.tier} for item in awarded],
        "not_awarded": sorted(reasons)})], "2026-01-20")
    world.facts["award_decision"] = {"entry": result["first_index"], "checkpoint": size, "awarded": len(awarded),
                                     "first": awarded[0].company if awarded else None}
    world.facts["tree_size"] = ledger.size()


def demo_tokens(settings: Settings, store) -> dict[str, str]:
    """Read tokens for a company, the auditor and the city, kept in HOME/demo-tokens.json
    (mode 0600) so that later runs print the same ones. Demo only: real tokens are shown once."""
    path = settings.home / "demo-tokens.json"
    if path.exists():
        tokens = json.loads(path.read_text())
        if all(store.holder(token) for token in tokens.values()):
            return tokens
    facts = json.loads((settings.home / "demo-facts.json").read_text())
    tokens = {organisation: store.issue(organisation, "demo")[0]
              for organisation in (facts["contributors"][0], "auditor-baznas", "pemkot-jakarta-utara")}
    path.write_text(json.dumps(tokens, indent=2) + "\n")
    path.chmod(0o600)
    return tokens
