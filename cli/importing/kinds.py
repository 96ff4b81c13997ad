"""The four files people hand in, as columns and settings, and how each becomes events:
a BPJS premium batch, Baznas receipts, Baznas disbursements and a BPJS registration list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cli.importing import values
from cli.importing.plan import Column, Plan, Planned, at_midnight, first_row, parse_row, parse_settings
from api.spreadsheets import Table
from ledger import payloads
from ledger.errors import LedgerError


@dataclass(frozen=True)
class People:
    """How NIKs become worker references: `find` asks the ledger's index for a person enrolled
    before (None when there is no ledger to ask), `new` gives a never-enrolled person one."""

    find: Callable[[str], str | None] | None
    new: Callable[[str], str]
    check_nik: Callable[[str, str], object] | None = None


@dataclass(frozen=True)
class Kind:
    name: str
    signer_kind: str                 # the organisation kind that signs this file
    settings: tuple[Column, ...]     # one value for the whole file
    columns: tuple[Column, ...]      # one value per row (or once, as a setting of the same name)
    build: Callable[[Plan, dict, list[tuple[int, dict]], People], None]
    example_rows: tuple[dict, ...] = ()

    @property
    def known_settings(self) -> set[str]:
        return {column.name for column in (*self.settings, *self.columns)}

    @property
    def known_columns(self) -> set[str]:
        return {column.name for column in self.columns}


def plan_rows(plan: Plan, kind: Kind, table: Table, people: People) -> None:
    """Parse the settings and rows of `table` and build the events into `plan`."""
    plan.rows = len(table.rows)
    plan.refusals.extend(table.refusals)
    plan.refused_rows.update(refusal.row for refusal in table.refusals
                             if refusal.row and refusal.row > table.header_row)
    if not table.columns:
        return  # no header row: the table's refusal says so
    if not table.rows:
        plan.refuse(table.header_row, None, "there are no rows under the header row")
    missing = [column.name for column in kind.columns if column.required and column.name not in table.columns
               and column.name not in table.settings]
    for name in missing:
        plan.refuse(table.header_row or None, name, "the column is missing")
    settings = parse_settings(plan, kind.settings, table.settings)
    if missing or settings is None or not table.columns:
        return
    rows = []
    for number, cells in zip(table.row_numbers, table.rows):
        parsed = parse_row(plan, kind.columns, cells, table.settings, number)
        if parsed is not None:
            rows.append((number, parsed))
    kind.build(plan, settings, rows, people)


PROGRAMME = Column("programme", values.text, True, "the programme id", "sertakan-jakut-2025")


# ---- premiums (BPJS) ------------------------------------------------------------------------

def _premiums(plan: Plan, settings: dict, rows: list[tuple[int, dict]], people: People) -> None:
    lines, seen = [], {}
    for number, row in rows:
        worker = _worker(plan, number, row["worker"], people)
        if worker is None:
            continue
        if row.get("month", settings["month"]) != settings["month"]:
            plan.refuse(number, "month", f"the batch pays {settings['month']}, this row {row['month']}")
            continue
        amount = row["jkk_rupiah"] + row["jkm_rupiah"] + row["jht_rupiah"]
        if row.get("amount_rupiah", amount) != amount:
            plan.refuse(number, "amount_rupiah", f"is not jkk + jkm + jht (Rp{amount:,})")
            continue
        earlier = first_row(seen, worker, number)
        if earlier is not None:
            plan.refuse(number, "worker", f"the same worker is in row {earlier} already (a duplicate row)")
            continue
        line = Planned("premium.paid", at_midnight(settings["paid_on"]), {
            "programme": settings["programme"], "batch": settings["batch"], "disbursement": settings["disbursement"],
            "worker": worker, "month": settings["month"], "jkk_rupiah": row["jkk_rupiah"],
            "jkm_rupiah": row["jkm_rupiah"], "jht_rupiah": row["jht_rupiah"], "amount_rupiah": amount,
            "paid_on": settings["paid_on"]}, number)
        if plan.check(line):
            lines.append(line)
    total = sum(line.payload["amount_rupiah"] for line in lines)
    header = Planned("premium.batch", at_midnight(settings["paid_on"]), {
        "programme": settings["programme"], "batch": settings["batch"], "disbursement": settings["disbursement"],
        "month": settings["month"], "lines": len(lines), "total_rupiah": total, "paid_on": settings["paid_on"]}, None)
    plan.totals = {"lines": len(lines), "amount_rupiah": total,
                   **{name: sum(line.payload[name] for line in lines)
                      for name in ("jkk_rupiah", "jkm_rupiah", "jht_rupiah")}}
    if lines and plan.check(header):
        plan.events = [header, *lines]


def _worker(plan: Plan, number: int, given: str, people: People) -> str | None:
    """The worker reference of a row that names a reference or a NIK."""
    if len(given) == 64:
        return given
    if not nik_ok(plan, number, "worker", given, people):
        return None
    if people.find is None:
        plan.refuse(number, "worker", "a NIK is looked up in the ledger's index, and there is no local ledger "
                    "here (AMANAH_HOME): give the worker reference, or import on the ledger's host")
        return None
    reference = people.find(given)
    if reference is None:
        plan.refuse(number, "worker", "no worker with this NIK is enrolled (or the person's data was erased)")
    return reference


def nik_ok(plan: Plan, number: int, column: str, nik: str, people: People) -> bool:
    if people.check_nik is None:
        return True
    try:
        people.check_nik(nik, column)
        return True
    except LedgerError as error:
        plan.refuse(number, column, f"{error.detail}")
        return False


PREMIUMS = Kind("premiums", "bpjs", (
    PROGRAMME,
    Column("batch", values.text, True, "the batch id, unique in the programme", "P-2025-03"),
    Column("disbursement", values.text, True, "the Baznas disbursement that paid the batch", "D-2025-03"),
    Column("month", values.month, True, "the month every line covers", "2025-03"),
    Column("paid_on", values.calendar_date, True, "the day BPJS paid the batch", "2025-03-05"),
), (
    Column("worker", values.nik_or_reference, True, "the worker's NIK (16 digits, as text) or worker reference",
           "3171011501850001"),
    Column("month", values.month, False, "the month covered (must be the batch's)", "2025-03"),
    Column("jkk_rupiah", values.rupiah, True, "work-accident premium", "10000"),
    Column("jkm_rupiah", values.rupiah, True, "death premium", "6800"),
    Column("jht_rupiah", values.rupiah, False, "old-age savings premium (0 without JHT)", "0", default=0),
    Column("amount_rupiah", values.rupiah, False, "the line's total, jkk + jkm + jht (checked)", "16800"),
), _premiums, ({"worker": "3171011501850001", "month": "2025-03", "jkk_rupiah": "10000", "jkm_rupiah": "6800",
                "jht_rupiah": "0", "amount_rupiah": "16800"},
               {"worker": "3171014506900002", "month": "2025-03", "jkk_rupiah": "10000", "jkm_rupiah": "6800",
                "jht_rupiah": "20000", "amount_rupiah": "36800"}))


# ---- receipts and disbursements (Baznas) ------------------------------------------------------

def _receipts(plan: Plan, settings: dict, rows: list[tuple[int, dict]], people: People) -> None:
    seen = {}
    for number, row in rows:
        earlier = first_row(seen, row["receipt"], number)
        if earlier is not None:
            plan.refuse(number, "receipt", f"receipt {row['receipt']} is in row {earlier} already (a duplicate row)")
            continue
        event = Planned("donation.received", at_midnight(row["received_on"]), payloads.receipt(
            settings["programme"], row["receipt"], row["company"], row["amount_rupiah"], row["received_on"],
            row.get("pledge"), row["fund_type"]), number)
        if plan.check(event):
            plan.events.append(event)
    plan.totals = {"receipts": len(plan.events), "amount_rupiah": sum(e.payload["amount_rupiah"] for e in plan.events),
                   "companies": len({event.payload["company"] for event in plan.events})}
    if plan.refusals:
        plan.events = []


RECEIPTS = Kind("receipts", "baznas", (PROGRAMME,), (
    Column("receipt", values.text, True, "the Baznas receipt number", "BZN-2025-0001"),
    Column("company", values.text, True, "the company's organisation id", "pt-maju-bersama"),
    Column("amount_rupiah", values.rupiah, True, "the amount received", "150000000"),
    Column("received_on", values.calendar_date, True, "the day the money arrived", "2025-02-03"),
    Column("fund_type", values.fund_type, False, "infak, sedekah or zakat (default infak)", "infak", default="infak"),
    Column("pledge", values.text, False, "the company's pledge id, if the money honours one", "PL-MAJU-2025"),
), _receipts, ({"receipt": "BZN-2025-0001", "company": "pt-maju-bersama", "amount_rupiah": "150000000",
                "received_on": "2025-02-03", "fund_type": "infak", "pledge": "PL-MAJU-2025"},
               {"receipt": "BZN-2025-0002", "company": "pt-sinar-laut", "amount_rupiah": "75.000.000",
                "received_on": "2025-02-10", "fund_type": "infak", "pledge": ""}))


def _disbursements(plan: Plan, settings: dict, rows: list[tuple[int, dict]], people: People) -> None:
    groups: dict[str, list[tuple[int, dict]]] = {}
    seen = {}
    for number, row in rows:
        earlier = first_row(seen, (row["disbursement"], row["receipt"]), number)
        if earlier is not None:
            plan.refuse(number, "receipt", f"disbursement {row['disbursement']} draws on receipt {row['receipt']} "
                        f"in row {earlier} already (a duplicate row)")
            continue
        group = groups.setdefault(row["disbursement"], [])
        first = group[0][1] if group else row
        differs = [name for name in ("to", "period", "made_on") if row[name] != first[name]]
        if differs:
            plan.refuse(number, differs[0], f"differs from row {group[0][0]} of the same disbursement")
            continue
        group.append((number, row))
    for disbursement, group in groups.items():
        first = group[0][1]
        event = Planned("disbursement.made", at_midnight(first["made_on"]), payloads.disbursement(
            settings["programme"], disbursement, first["to"], first["period"], first["made_on"],
            [(row["receipt"], row["company"], row["amount_rupiah"]) for _, row in group]), group[0][0],
            [number for number, _ in group])
        if plan.check(event):
            plan.events.append(event)
    plan.totals = {"disbursements": len(plan.events), "sources": sum(len(e.source_rows) for e in plan.events),
                   "amount_rupiah": sum(event.payload["amount_rupiah"] for event in plan.events)}
    if plan.refusals:
        plan.events = []


DISBURSEMENTS = Kind("disbursements", "baznas", (PROGRAMME,), (
    Column("disbursement", values.text, True, "the disbursement id (one row per receipt drawn on)", "D-2025-03"),
    Column("to", values.text, True, "the BPJS office paid (organisation id)", "bpjs-kelapa-gading"),
    Column("period", values.month, True, "the month the premiums are for", "2025-03"),
    Column("made_on", values.calendar_date, True, "the day Baznas paid", "2025-03-01"),
    Column("receipt", values.text, True, "a receipt the money comes from", "BZN-2025-0001"),
    Column("company", values.text, True, "that receipt's company", "pt-maju-bersama"),
    Column("amount_rupiah", values.rupiah, True, "the amount drawn on that receipt", "100000000"),
), _disbursements, ({"disbursement": "D-2025-03", "to": "bpjs-kelapa-gading", "period": "2025-03",
                     "made_on": "2025-03-01", "receipt": "BZN-2025-0001", "company": "pt-maju-bersama",
                     "amount_rupiah": "100000000"},
                    {"disbursement": "D-2025-03", "to": "bpjs-kelapa-gading", "period": "2025-03",
                     "made_on": "2025-03-01", "receipt": "BZN-2025-0002", "company": "pt-sinar-laut",
                     "amount_rupiah": "50000000"}))
