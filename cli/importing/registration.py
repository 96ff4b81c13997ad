"""BPJS's registration list: one row per worker enrolled in the programme. The NIK, name and phone
travel beside the signed envelopes (sealed, erasable); the log gets only the worker reference."""

from __future__ import annotations

from cli.importing import values
from cli.importing.kinds import PROGRAMME, Kind, People, nik_ok
from cli.importing.plan import Column, Plan, Planned, at_midnight, first_row
from ledger import payloads
from ledger.errors import LedgerError
from ledger.personal import check_fields


def _enrolments(plan: Plan, settings: dict, rows: list[tuple[int, dict]], people: People) -> None:
    seen, new_people, by_category = {}, 0, {}
    for number, row in rows:
        nik = row["nik"]
        if not nik_ok(plan, number, "nik", nik, people):
            continue
        earlier = first_row(seen, nik, number)
        if earlier is not None:
            plan.refuse(number, "nik", f"the same NIK is in row {earlier} already (a duplicate row)")
            continue
        record = {"nik": nik, "name": row["name"], **({"phone": row["phone"]} if "phone" in row else {})}
        try:
            check_fields(record, "personal")
        except LedgerError as error:
            plan.refuse(number, (error.field or "").rsplit(".", 1)[-1] or None, error.detail)
            continue
        reference = people.find(nik) if people.find is not None else None
        if reference is None:
            reference, new_people = people.new(nik), new_people + 1
        event = Planned("worker.enrolled", at_midnight(row["enrolled_on"]), payloads.enrolment(
            settings["programme"], reference, row["category"], row["kelurahan"], row["enrolled_on"],
            row["income_rupiah"], row["jht"], row.get("member_since"), row.get("member_since_reference")),
            number, personal=record)
        if plan.check(event):
            plan.events.append(event)
            by_category[row["category"]] = by_category.get(row["category"], 0) + 1
    plan.totals = {"workers": len(plan.events), "new_people": new_people,
                   "enrolled_before": len(plan.events) - new_people, "by_category": by_category}
    if plan.refusals:
        plan.events = []


ENROLMENTS = Kind("enrolments", "bpjs", (PROGRAMME,), (
    Column("nik", values.nik, True, "the NIK, 16 digits typed as text", "3171011501850001"),
    Column("name", values.text, True, "the worker's name", "Budi Santoso"),
    Column("phone", values.text, False, "a phone number", "0812 3456 7890"),
    Column("category", values.category, True, "ojek_online, dasawisma, jumantik, pedagang_asongan or other",
           "ojek_online"),
    Column("kelurahan", values.text, True, "the urban village", "Kelapa Gading Barat"),
    Column("income_rupiah", values.rupiah, True, "the declared monthly income (the bracket's amount)", "1000000"),
    Column("jht", values.boolean, False, "old-age savings too: ya or tidak (default tidak)", "tidak", default=False),
    Column("enrolled_on", values.calendar_date, True, "the day of enrolment", "2025-01-15"),
    Column("member_since", values.calendar_date, False, "start of an earlier BPJS membership, if any", ""),
    Column("member_since_reference", values.text, False, "BPJS's reference for that membership "
           "(required with member_since)", ""),
), _enrolments, ({"nik": "3171011501850001", "name": "Budi Santoso", "phone": "0812 3456 7890",
                  "category": "ojek_online", "kelurahan": "Kelapa Gading Barat", "income_rupiah": "1000000",
                  "jht": "tidak", "enrolled_on": "2025-01-15", "member_since": "", "member_since_reference": ""},
                 {"nik": "3171014506900002", "name": "Siti Aminah", "phone": "0813 1111 2222",
                  "category": "dasawisma", "kelurahan": "Kelapa Gading Timur", "income_rupiah": "1000000",
                  "jht": "ya", "enrolled_on": "2025-01-20", "member_since": "2023-06-01",
                  "member_since_reference": "KPJ-23060112345"}))
