"""`amanah demo`: the North Jakarta 2025 programme as a live, signed ledger, deterministic from a seed.

Every fact enters through `Ledger.submit`, the path the API's POST /submissions uses, each
party signing with its own key: a registrar, the city, Baznas, the BPJS Kelapa Gading branch,
an auditor and 46 invited companies, of which 21 pledge and pay; 11,860 workers in two
kelurahan; monthly disbursements, acknowledgements and premium batches; the Rp42,000,000 JKM
benefit, a short-membership death (Rp10,000,000), a JKK claim, a rejected claim, a reversal and
an erasure. Keys are written unencrypted under HOME/demo-keys: demo only."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ledger import note, payloads, personal, personal_keys, signing
from ledger.application import Ledger
from ledger.client import Signer, public_key_b64
from ledger.config import Settings
from ledger.domain.rates import default_rules, premium_for

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
    contributors = _money_in(world)
    progress(2, 16)
    _enrol(world)
    progress(3, 16)
    for number, month in enumerate(MONTHS):
        if month == "2025-11":
            _second_gift(world)
        _month(world, month, contributors)
        progress(4 + number, 16)
    _claims_and_corrections(world)
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
                     ("auditor-baznas", "Satuan Audit Internal BAZNAS", "auditor")]
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


def _money_in(world: DemoWorld) -> list[str]:
    """21 contributors whose receipts cover the year's premiums: some paid in instalments, one
    company giving twice (a second gift in November, partly unspent at year end), one pledge
    only partly fulfilled (and amended down to what was paid in December)."""
    rng = world.rng
    companies = sorted(rng.sample([f"company-{n:02d}" for n in range(1, INVITED + 1)], CONTRIBUTORS))
    weights = [rng.choice((1, 1, 2, 2, 3, 4, 6, 10)) for _ in companies]
    second_gift, partial = 150_000_000, companies[3]
    target = _premiums_needed(world) - (second_gift - 50_000_000)  # receipts before the second gift
    amounts = [max(target * weight // sum(weights) // 1_000_000, 20) * 1_000_000 for weight in weights]
    paid = [amount * 60 // 100 if company == partial else amount for company, amount in zip(companies, amounts)]
    largest = max(range(len(companies)), key=lambda position: (weights[position], -position))
    amounts[largest] += target - sum(paid)  # the largest donor's pledge makes the total exact
    paid[largest] = amounts[largest]
    world.facts.update(contributors=companies, pledged_by_company=dict(zip(companies, amounts, strict=True)))
    receipts = 0
    for position, (company, amount) in enumerate(zip(companies, amounts, strict=True)):
        pledge_day = f"2025-01-{6 + position % 5:02d}"
        world.submit(company, [("pledge.made", payloads.pledge(PROGRAMME, f"pledge-{company}-1", amount,
                                                               pledged_on=pledge_day))], pledge_day)
        parts = 1 if amount < 60_000_000 else rng.choice((1, 2, 3))
        for part in range(parts):
            total = paid[position]
            share = total // parts if part < parts - 1 else total - total // parts * (parts - 1)
            receipts += 1
            day = f"2025-{1 + part * 3:02d}-{13 + position % 8:02d}"
            world.submit("baznas-jakarta-utara", [("donation.received", payloads.receipt(
                PROGRAMME, f"rcpt-2025-{receipts:03d}", company, share, day, f"pledge-{company}-1"))], day)
    world.facts["partly_fulfilled"] = partial
    world.facts["gave_twice"] = companies[0]
    return companies


def _second_gift(world: DemoWorld) -> None:
    giver = world.facts["gave_twice"]
    world.submit(giver, [("pledge.made", payloads.pledge(PROGRAMME, f"pledge-{giver}-2", 150_000_000,
                                                         pledged_on="2025-11-03"))], "2025-11-03")
    world.submit("baznas-jakarta-utara", [("donation.received", payloads.receipt(
        PROGRAMME, "rcpt-2025-gift-2", giver, 150_000_000, "2025-11-17", f"pledge-{giver}-2"))], "2025-11-17")


def _premiums_needed(world: DemoWorld) -> int:
    rules = default_rules()
    if not world.workers:
        _plan_workers(world)
    return sum(premium_for(rules, w["income_rupiah"], w["category"], month, w["jht"]).amount_rupiah
               for w in world.workers for month in MONTHS if month >= w["enrolled_on"][:7])


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
            "enrolled_on": f"2025-{month:02d}-{1 + number % 20:02d}",
            "name": f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}", "phone": f"08{rng.randrange(10**9, 10**10)}"})
    _fix_duplicate_niks(world)


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


def _month(world: DemoWorld, month: str, contributors: list[str]) -> None:
    """Baznas disburses exactly the month's premiums, drawing receipts oldest first; BPJS
    acknowledges, then records the month's premium batch."""
    covered = [w for w in world.workers if w["enrolled_on"][:7] <= month]
    lines = payloads.premium_batch(PROGRAMME, f"premi-{month}", f"disb-{month}", month, covered)
    total = lines[0][1]["total_rupiah"]
    sources = _draw(world, total, f"{month}-25")
    world.submit("baznas-jakarta-utara", [("disbursement.made", payloads.disbursement(
        PROGRAMME, f"disb-{month}", "bpjs-kelapa-gading", month, f"{month}-25", sources))], f"{month}-25")
    world.submit("bpjs-kelapa-gading", [("disbursement.acknowledged", {
        "programme": PROGRAMME, "disbursement": f"disb-{month}", "amount_rupiah": total,
        "received_on": f"{month}-26"})], f"{month}-26")
    world.submit("bpjs-kelapa-gading", lines, f"{month}-28")


def _draw(world: DemoWorld, total: int, day: str) -> list[tuple[str, str, int]]:
    programme = world.ledger.repository.get(__import__("ledger.domain.common", fromlist=["x"]).aggregate_uuid(
        "programme", PROGRAMME))
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


def _claims_and_corrections(world: DemoWorld) -> None:
    bpjs = "bpjs-kelapa-gading"
    driver = next(w for w in world.workers if w["category"] == "ojek_online" and w["enrolled_on"] < "2025-02")
    late = next(w for w in world.workers if w["enrolled_on"][:7] == "2025-07")
    accident = next(w for w in world.workers if w["category"] == "ojek_online" and w is not driver)
    rejected = next(w for w in world.workers if w["category"] == "dasawisma")
    rules = default_rules()
    cases = [("jkm-2025-001", driver, "jkm", "2025-06-14", 42_000_000, "2025-06-20", "2025-06-23"),
             ("jkm-2025-002", late, "jkm", "2025-08-22", 10_000_000, "2025-08-27", "2025-08-29"),
             ("jkk-2025-001", accident, "jkk", "2025-09-03", 15_750_000, "2025-09-10", "2025-09-16")]
    for claim_id, worker, benefit, incident, amount, complete, paid in cases:
        filed = {"incident_on": incident, "filed_on": incident[:8] + f"{int(incident[8:]) + 2:02d}"}
        world.submit(bpjs, [("claim.filed", payloads.claim(PROGRAMME, claim_id, worker["worker"], benefit, **filed))],
                     filed["filed_on"], {"0": {"name": f"Ahli waris {worker['name']}", "relationship": "spouse"}})
        world.submit(bpjs, [("claim.approved", payloads.approval(PROGRAMME, claim_id, worker["worker"], benefit,
                                                                 amount, complete, complete, rules))], complete)
        world.submit(bpjs, [("claim.paid", payloads.claim(PROGRAMME, claim_id, worker["worker"], benefit,
                                                          amount_rupiah=amount, paid_on=paid))], paid)
    world.submit(bpjs, [("claim.filed", payloads.claim(PROGRAMME, "jkk-2025-002", rejected["worker"], "jkk",
                                                       incident_on="2025-10-07", filed_on="2025-10-09"))], "2025-10-09")
    world.submit(bpjs, [("claim.rejected", payloads.claim(PROGRAMME, "jkk-2025-002", rejected["worker"], "jkk",
                                                          reason="incident was not work-related",
                                                          rejected_on="2025-10-20"))], "2025-10-20")
    # A receipt keyed twice by mistake, reversed by Baznas with a reason code.
    result = world.submit("baznas-jakarta-utara", [("donation.received", payloads.receipt(
        PROGRAMME, "rcpt-2025-dup", world.facts["contributors"][1], 25_000_000, "2025-11-03"))], "2025-11-03")
    world.submit("baznas-jakarta-utara", [("entry.reversed", {
        "programme": PROGRAMME, "entry": result["first_index"], "reverses": "donation.received",
        "reference": {"receipt": "rcpt-2025-dup"}, "reason_code": "duplicate",
        "note": "the same transfer was keyed twice"})], "2025-11-04")
    # The partly fulfilled pledge is amended in December to what was paid.
    company = world.facts["partly_fulfilled"]
    pledged = world.facts["pledged_by_company"][company]
    world.submit(company, [("pledge.amended", {"programme": PROGRAMME, "pledge": f"pledge-{company}-1",
                                               "amount_rupiah": pledged * 60 // 100, "previous_rupiah": pledged,
                                               "reason": "budget revised by the board"})], "2025-12-15")
    # An erasure request: the worker's personal data is destroyed; the log is untouched.
    erased = world.workers[-1]
    world.ledger.forget(f"worker:{erased['worker']}")
    world.facts.update(jkm_driver=driver["worker"], jkm_claim="jkm-2025-001", jkm_benefit_rupiah=42_000_000,
                       short_membership_claim="jkm-2025-002", jkk_claim="jkk-2025-001",
                       rejected_claim="jkk-2025-002", erased_worker=erased["worker"],
                       reversed_receipt="rcpt-2025-dup", tree_size=world.ledger.size())


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
