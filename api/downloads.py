"""Auditors work in spreadsheets: the audit answers (balances, reconciliation items, a trace, the
journal of a period, log entries) as XLSX or CSV beside their JSON, by `format=` or `Accept`.

Every table is laid out like the files `amanah import` reads: `name | value` rows saying what
it is (as of when, at which checkpoint), a blank row, a header row, one row per item. Text from
the log is written as text, never as a formula (a payload could hold "=HYPERLINK(...)")."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

from flask import Response, request

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv", "xlsx": XLSX}
FORMATS = tuple(MEDIA_TYPES)


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list[object]] = field(default_factory=list)


@dataclass
class Tabular:
    """What a download holds: settings, then one section per table."""

    name: str
    settings: list[tuple[str, object]]
    sections: list[Section]


def chosen_format(explicit: str | None) -> str:
    """json, csv or xlsx: `format=` wins, then the Accept header, JSON by default."""
    if explicit:
        return explicit
    best = request.accept_mimetypes.best_match(list(MEDIA_TYPES.values()), default=MEDIA_TYPES["json"])
    return next(name for name, media in MEDIA_TYPES.items() if media == best)


def respond(value: dict, explicit: str | None, tabular) -> Response | dict:
    """The JSON answer as it is, or `tabular(value)` as a CSV or XLSX attachment."""
    chosen = chosen_format(explicit)
    if chosen == "json":
        return value
    table: Tabular = tabular(value)
    body = to_csv(table) if chosen == "csv" else to_xlsx(table)
    response = Response(body, mimetype=MEDIA_TYPES[chosen])
    response.headers["Content-Disposition"] = f'attachment; filename="{table.name}.{chosen}"'
    response.vary.add("Accept")
    return response


def to_csv(table: Tabular) -> bytes:
    """UTF-8 with a byte-order mark (Excel then reads it as UTF-8), text guarded against formulas."""
    from projections.render_csv import _write_csv  # the one formula-injection guard of the project's CSVs

    rows: list[list[object]] = [[name, value] for name, value in table.settings]
    for position, section in enumerate(table.sections):
        rows.append([])
        if len(table.sections) > 1:
            rows.append([section.title])
        rows.append(section.columns)
        rows.extend(section.rows)
    return ("\ufeff" + _write_csv(rows)).encode("utf-8")


def to_xlsx(table: Tabular) -> bytes:
    """One sheet per section (the settings head the first), written row by row (write-only)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def cells(sheet, values: list[object], header: bool = False) -> list:
        written = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=_xlsx_value(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text, even "=..."
            if header:
                cell.font = bold
            written.append(cell)
        return written

    for position, section in enumerate(table.sections or [Section(table.name, [])]):
        sheet = workbook.create_sheet(_sheet_title(section.title, position))
        if position == 0:
            for name, value in table.settings:
                sheet.append(cells(sheet, [name, value]))
            sheet.append([])
        sheet.append(cells(sheet, section.columns, header=True))
        for row in section.rows:
            sheet.append(cells(sheet, row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _sheet_title(title: str, position: int) -> str:
    cleaned = "".join(character for character in title if character not in "[]:*?/\\")[:28] or "sheet"
    return cleaned if position == 0 else f"{cleaned[:24]} {position + 1}"


# ---- the audit answers as tables --------------------------------------------------------------

def _checkpoint_settings(checkpoint: dict | None) -> list[tuple[str, object]]:
    if not checkpoint:
        return []
    return [("checkpoint_tree_size", checkpoint.get("tree_size")), ("checkpoint_root", checkpoint.get("root"))]


def balances_table(value: dict) -> Tabular:
    rows = [[account, amount, amount if amount > 0 else 0, -amount if amount < 0 else 0]
            for account, amount in value["accounts"].items()]
    return Tabular(f"balances-{value.get('as_of') or 'now'}", [
        ("as_of", value.get("as_of") or "now"), ("trial_balance_rupiah", value["trial_balance_rupiah"]),
        *_checkpoint_settings(value.get("checkpoint"))],
        [Section("balances", ["account", "balance_rupiah", "debit_rupiah", "credit_rupiah"], rows)])


def reconciliation_table(value: dict) -> Tabular:
    rows = [[item["kind"], item.get("company") or "", item["detail"], " ".join(str(index) for index in item["entries"])]
            for item in value["items"]]
    return Tabular(f"reconciliation-{value['as_of']}", [("as_of", value["as_of"]), ("items", len(rows)),
                                                        *_checkpoint_settings(value.get("checkpoint"))],
                   [Section("reconciliation", ["kind", "company", "detail", "entries"], rows)])


def entries_table(value: dict) -> Tabular:
    rows = []
    for item in value["entries"]:
        entry, envelope = item["entry"], item["entry"].get("envelope", {})
        rows.append([item["index"], entry.get("recorded_at"), envelope.get("type"), envelope.get("actor"),
                     envelope.get("occurred_at"), envelope.get("idempotency_key"), envelope.get("payload")])
    first = rows[0][0] if rows else value.get("start", 0)
    return Tabular(f"entries-{first}", [("tree_size", value["tree_size"]), ("entries", len(rows))],
                   [Section("entries", ["index", "recorded_at", "type", "actor", "occurred_at", "idempotency_key",
                                        "payload"], rows)])


def journal_table(value: dict) -> Tabular:
    rows = [[line["entry"], line["occurred_on"], line["type"], line["actor"], line["account"],
             line["amount_rupiah"] if line["amount_rupiah"] > 0 else 0,
             -line["amount_rupiah"] if line["amount_rupiah"] < 0 else 0] for line in value["postings"]]
    return Tabular(f"journal-{value['from']}-{value['to']}", [
        ("from", value["from"]), ("to", value["to"]), ("postings", len(rows)),
        ("debits_rupiah", value["debits_rupiah"]), ("credits_rupiah", value["credits_rupiah"]),
        *_checkpoint_settings(value.get("checkpoint"))],
        [Section("journal", ["entry", "occurred_on", "type", "actor", "account", "debit_rupiah", "credit_rupiah"],
                 rows)])


def trace_table(value: dict) -> Tabular:
    """The entry's scalar facts as `name | value` rows, each list of records as its own table."""
    settings: list[tuple[str, object]] = [("index", value["index"]), ("type", value["type"]),
                                          ("actor", value["actor"])]
    sections: list[Section] = []
    _flatten("", {key: value[key] for key in ("backward", "forward") if key in value}, settings, sections)
    entry = value.get("entry", {}).get("envelope", {})
    sections.insert(0, Section("payload", ["field", "value"], [[name, item] for name, item in
                                                                 sorted(entry.get("payload", {}).items())]))
    return Tabular(f"trace-{value['index']}", settings, sections)


def _flatten(prefix: str, value: object, settings: list, sections: list[Section]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, item, settings, sections)
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        columns = list(dict.fromkeys(key for item in value for key in item))
        sections.append(Section(prefix, columns, [[item.get(column) for column in columns] for item in value]))
    else:
        settings.append((prefix, value))


FUND_COLUMNS = (("perusahaan", "company"), ("nama", "legal_name"), ("saldo_awal_rupiah", "opening_rupiah"),
                ("penerimaan_rupiah", "received_rupiah"), ("bagian_amil_rupiah", "amil_rupiah"),
                ("disalurkan_ke_bpjs_rupiah", "distributed_rupiah"), ("pengembalian_premi_rupiah", "refunded_rupiah"),
                ("saldo_akhir_rupiah", "closing_rupiah"))


def funds_table(value: dict) -> Tabular:
    """The statement of changes in restricted funds, its columns named in Bahasa Indonesia."""
    rows = [[row[key] for _, key in FUND_COLUMNS] for row in value["companies"]]
    rows.append(["jumlah", "", *(value["total"][key] for _, key in FUND_COLUMNS[2:])])
    return Tabular(f"perubahan-dana-{value['period']}", [
        ("laporan", "Laporan perubahan dana infak/sedekah terikat"), ("standar", value["standard"]),
        ("periode", value["period"]), ("dari", value["from"]), ("sampai", value["to"]),
        *_checkpoint_settings(value.get("checkpoint"))],
        [Section("perubahan_dana", [name for name, _ in FUND_COLUMNS], rows)])
