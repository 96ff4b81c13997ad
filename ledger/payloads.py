"""Client-side builders of event payloads for the money flow, with the computed fields (premium
amounts from the rate table, claim deadlines) filled in the way the ledger will check them."""

from __future__ import annotations

from datetime import date

from ledger.domain.rates import add_working_days, default_rules, premium_for


def programme_opened(programme: str, year: int, name: str | None = None, rules: dict | None = None) -> dict:
    return {"programme": programme, "name": name or f"SERTAKAN Jakarta Utara {year}", "year": year,
            "starts_on": f"{year}-01-01", "ends_on": f"{year}-12-31", "rules": rules or default_rules()}


def pledge(programme: str, pledge_id: str, amount_rupiah: int, fund_type: str = "infak",
           pledged_on: str | None = None) -> dict:
    payload = {"programme": programme, "pledge": pledge_id, "amount_rupiah": amount_rupiah, "fund_type": fund_type}
    if pledged_on:
        payload["pledged_on"] = pledged_on
    return payload


def receipt(programme: str, receipt_id: str, company: str, amount_rupiah: int, received_on: str,
            pledge_id: str | None = None, fund_type: str = "infak") -> dict:
    payload = {"programme": programme, "receipt": receipt_id, "company": company,
               "amount_rupiah": amount_rupiah, "fund_type": fund_type, "received_on": received_on}
    if pledge_id:
        payload["pledge"] = pledge_id
    return payload


def disbursement(programme: str, disbursement_id: str, to: str, period: str, made_on: str,
                 sources: list[tuple[str, str, int]]) -> dict:
    return {"programme": programme, "disbursement": disbursement_id, "to": to, "period": period,
            "made_on": made_on, "amount_rupiah": sum(amount for _, _, amount in sources),
            "sources": [{"receipt": r, "company": c, "amount_rupiah": a} for r, c, a in sources]}


def enrolment(programme: str, worker: str, category: str, kelurahan: str, enrolled_on: str,
              income_rupiah: int = 1_000_000, jht: bool = False, member_since: str | None = None,
              member_since_reference: str | None = None) -> dict:
    payload = {"programme": programme, "worker": worker, "category": category, "kelurahan": kelurahan,
               "income_rupiah": income_rupiah, "jht": jht, "enrolled_on": enrolled_on}
    if member_since:
        payload.update(member_since=member_since, member_since_reference=member_since_reference)
    return payload


def invitation(programme: str, company: str, invited_on: str) -> dict:
    return {"programme": programme, "company": company, "invited_on": invited_on}


def refund(programme: str, worker: str, month: str, entry: int, amount_rupiah: int, refunded_on: str,
           funders: list[tuple[str, str, int]]) -> dict:
    """A premium paid for a month after the worker's death, back to the companies that paid it."""
    return {"programme": programme, "worker": worker, "month": month, "entry": entry,
            "amount_rupiah": amount_rupiah, "refunded_on": refunded_on, "reason_code": "death",
            "funders": [{"receipt": r, "company": c, "amount_rupiah": a} for r, c, a in funders]}


def premium_batch(programme: str, batch: str, disbursement_id: str, month: str,
                  workers: list[dict], rules: dict | None = None, paid_on: str | None = None) -> list[tuple[str, dict]]:
    """Header plus one premium line per worker (each a dict with worker, income_rupiah,
    category, jht), amounts from the rate table: (type, payload) pairs, header first. The batch
    is paid on `paid_on` (default: the first day of the month it covers)."""
    rules = rules or default_rules()
    paid_on = paid_on or f"{month}-01"
    lines = []
    for worker in workers:
        amount = premium_for(rules, worker["income_rupiah"], worker["category"], month, worker["jht"])
        lines.append(("premium.paid", {
            "programme": programme, "batch": batch, "disbursement": disbursement_id, "worker": worker["worker"],
            "month": month, "jkk_rupiah": amount.jkk_rupiah, "jkm_rupiah": amount.jkm_rupiah,
            "jht_rupiah": amount.jht_rupiah, "amount_rupiah": amount.amount_rupiah, "paid_on": paid_on}))
    total = sum(payload["amount_rupiah"] for _, payload in lines)
    header = ("premium.batch", {"programme": programme, "batch": batch, "disbursement": disbursement_id,
                                "month": month, "lines": len(lines), "total_rupiah": total, "paid_on": paid_on})
    return [header, *lines]


def claim(programme: str, claim_id: str, worker: str, benefit: str, **fields: object) -> dict:
    return {"programme": programme, "claim": claim_id, "worker": worker, "benefit": benefit, **fields}


def approval(programme: str, claim_id: str, worker: str, benefit: str, amount_rupiah: int,
             approved_on: str, complete_on: str, rules: dict | None = None) -> dict:
    rules = rules or default_rules()
    days = rules["benefits"]["payment_deadline_working_days"][benefit]
    deadline = add_working_days(date.fromisoformat(complete_on), days).isoformat()
    return claim(programme, claim_id, worker, benefit, amount_rupiah=amount_rupiah, approved_on=approved_on,
                 complete_on=complete_on, deadline_on=deadline)
