"""The demo's money over the year: contributions and pledges, the monthly disbursements and
premium batches, claims and refunds."""

from __future__ import annotations

from datetime import date, timedelta

from cli.demo.people import payable, premiums_needed
from cli.demo.world import CONTRIBUTORS, INVITED, PROGRAMME, DemoWorld
from ledger import payloads
from ledger.domain.attribution import line_funders
from ledger.domain.common import aggregate_uuid
from ledger.domain.rates import default_rules
from ledger.domain.workers import worker_uuid

SECOND_GIFT, SECOND_GIFT_AMIL, SECOND_GIFT_UNSPENT = 150_000_000, 7_500_000, 42_500_000
RAISE = 30_000_000


def money_in(world: DemoWorld) -> list[str]:
    """21 contributors whose receipts cover the year's premiums: some paid in instalments (the
    first before January's premiums are due), one company giving twice (a second gift in
    November, partly unspent at year end), one raising its pledge in October."""
    rng = world.rng
    companies = sorted(rng.sample([f"company-{n:02d}" for n in range(1, INVITED + 1)], CONTRIBUTORS))
    weights = [rng.choice((1, 1, 2, 2, 3, 4, 6, 10)) for _ in companies]
    target = premiums_needed(world) - (SECOND_GIFT - SECOND_GIFT_AMIL - SECOND_GIFT_UNSPENT)
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


def pledge_raised(world: DemoWorld) -> None:
    """A company raises its pledge in October, with a reason, and pays the difference."""
    company = world.facts["raised_pledge"]
    pledged = world.facts["pledged_by_company"][company]
    world.submit(company, [("pledge.amended", {"programme": PROGRAMME, "pledge": f"pledge-{company}-1",
                                               "amount_rupiah": pledged + RAISE, "previous_rupiah": pledged,
                                               "reason": "tambahan anggaran TJSL disetujui direksi"})], "2025-10-01")
    world.submit("baznas-jakarta-utara", [("donation.received", payloads.receipt(
        PROGRAMME, "rcpt-2025-raise", company, RAISE, "2025-10-06", f"pledge-{company}-1"))], "2025-10-06")


def second_gift(world: DemoWorld) -> None:
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


def pay_month(world: DemoWorld, month: str) -> None:
    """Baznas disburses exactly the month's premiums on the 10th, drawing receipts oldest
    first; BPJS acknowledges, then pays the month's batch before the 15th, when it is due."""
    covered = [w for w in world.workers if payable(w, month) and month not in w.get("paid_ahead", ())]
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


def claims_of(world: DemoWorld, month: str) -> None:
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
