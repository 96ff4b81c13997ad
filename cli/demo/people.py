"""The demo's people: 11,860 workers in two kelurahan (enrolled with their NIKs) and the claims
planned for the year."""

from __future__ import annotations

import random

from cli.demo.world import (CATEGORY_WEIGHTS, FAMILY, GIVEN, KELURAHAN, MONTHS, PROGRAMME, WORKERS, DemoWorld)
from ledger import payloads
from ledger.domain.rates import default_rules, premium_for


def premiums_needed(world: DemoWorld) -> int:
    """The rupiah of every premium the year's workers need (planning them first)."""
    rules = default_rules()
    if not world.workers:
        plan_workers(world)
    return sum(premium_for(rules, w["income_rupiah"], w["category"], month, w["jht"]).amount_rupiah
               for w in world.workers for month in MONTHS if payable(w, month))


def payable(worker: dict, month: str) -> bool:
    """Enrolled by then and alive: no premium for a month after a death."""
    return worker["enrolled_on"][:7] <= month and month <= worker.get("died_on", "9999")[:7]


def plan_workers(world: DemoWorld) -> None:
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


def enrol(world: DemoWorld) -> None:
    """Enrol the planned workers, month by month, with their personal data beside the log."""
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
