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
from pathlib import Path

from cli.demo.months import claims_of, money_in, pay_month, pledge_raised, second_gift
from cli.demo.people import enrol
from cli.demo.witnesses import witness_demo
from cli.demo.world import INVITED, MONTHS, PROGRAMME, SECTORS, WORDS, DemoWorld, Progress
from ledger import payloads, signing, wiring
from ledger.award_check import ranking_at
from ledger.client import Signer, public_key_b64
from ledger.config import Settings
from ledger.domain.awards import DEFAULT_CRITERIA
from ledger.wiring import Organisation

REGISTRAR_NAME = "Sekretariat Registrasi Program SERTAKAN Jakarta Utara"


def build_demo(settings: Settings, seed: int = 2025, progress: Progress | None = None) -> dict:
    """Create the demo ledger in an empty database; returns the facts a newcomer can check."""
    progress = progress or (lambda done, total: None)
    rng = random.Random(seed)
    keys_dir = settings.home / "demo-keys"
    checkpoint_key = wiring.prepare_files(settings, plain_checkpoint_key=True)
    existing = wiring.open_ledger(settings, signing_checkpoints=False)
    if existing.size():
        raise SystemExit("the demo needs an empty database; this one has entries")
    existing.close()
    organisations = _organisations(rng)
    signers = _signers(settings.origin, organisations, keys_dir)
    ledger, results = wiring.create_ledger(settings, checkpoint_key, signers["registrar"], REGISTRAR_NAME, [
        Organisation(organisation, legal_name, kind, public_key_b64(signers[organisation].private_key))
        for organisation, legal_name, kind in organisations[1:]],
        created_at="2025-01-02T09:00:00Z")
    world = DemoWorld(ledger, settings, signers, ledger.pseudonym_secret, rng, counter=len(results))
    _programme(world)
    progress(1, 16)
    money_in(world)
    progress(2, 16)
    enrol(world)
    progress(3, 16)
    for number, month in enumerate(MONTHS):
        if month == "2025-10":
            pledge_raised(world)
        if month == "2025-11":
            second_gift(world)
        pay_month(world, month)
        claims_of(world, month)
        progress(4 + number, 16)
    _corrections(world)
    _award_decision(world)
    world.facts["witnesses"] = witness_demo(settings.home, world.ledger, checkpoint_key)
    progress(16, 16)
    (settings.home / "demo-facts.json").write_text(json.dumps(world.facts, indent=2) + "\n")
    return world.facts


def _organisations(rng: random.Random) -> list[tuple[str, str, str]]:
    """The registrar first, then the city, Baznas, BPJS, two auditors and the invited companies
    (their names drawn from `rng`): (organisation, legal name, kind)."""
    organisations = [("registrar", REGISTRAR_NAME, "registrar"),
                     ("pemkot-jakarta-utara", "Pemerintah Kota Administrasi Jakarta Utara", "city"),
                     ("baznas-jakarta-utara", "BAZNAS Kota Jakarta Utara", "baznas"),
                     ("bpjs-kelapa-gading", "BPJS Ketenagakerjaan Kantor Cabang Kelapa Gading", "bpjs"),
                     ("auditor-baznas", "Satuan Audit Internal BAZNAS", "auditor"),
                     ("forum-csr-jakarta-utara", "Forum CSR Jakarta Utara", "auditor")]
    names = set()
    while len(names) < INVITED:
        names.add(f"PT {rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SECTORS)}")
    for number, name in enumerate(sorted(names), 1):
        organisations.append((f"company-{number:02d}", name, "company"))
    return organisations


def _signers(origin: str, organisations: list[tuple[str, str, str]], keys_dir: Path) -> dict[str, Signer]:
    """A fresh key for each organisation, written unencrypted under HOME/demo-keys (demo only)."""
    signers = {}
    for organisation, _, _ in organisations:
        key = signing.generate()
        signing.write_private_key(key, keys_dir / f"{organisation}.key", None)
        signers[organisation] = Signer(origin, organisation, key)
    return signers


def _programme(world: DemoWorld) -> None:
    """The city opens the programme, invites the companies and publishes its award criteria."""
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
