"""`amanah import`: the spreadsheets BPJS and Baznas keep, checked row by row (a dry run) and
then signed and submitted as one all-or-nothing submission. See docs/importing.md.

Lives in api/, not ledger/: the ledger does not read spreadsheets (nor import openpyxl)."""

from __future__ import annotations

from pathlib import Path

from cli.importing.kinds import DISBURSEMENTS, PREMIUMS, RECEIPTS, Kind, People, plan_rows
from cli.importing.plan import Plan, file_digest
from cli.importing.registration import ENROLMENTS
from api.spreadsheet_writing import write_csv, write_xlsx
from api.spreadsheets import format_of, read_table
from ledger.errors import InvalidInput

KINDS: dict[str, Kind] = {kind.name: kind for kind in (PREMIUMS, RECEIPTS, DISBURSEMENTS, ENROLMENTS)}

__all__ = ["KINDS", "Kind", "People", "Plan", "plan_file", "template", "kind_named"]


def kind_named(name: str) -> Kind:
    """The kind of file, by name (premiums, receipts, disbursements, enrolments)."""
    try:
        return KINDS[name]
    except KeyError:
        raise InvalidInput(f"{name!r} is not a kind of file: {', '.join(KINDS)}", field="kind") from None


def plan_file(data: bytes, file_name: str, kind: Kind, people: People, options: dict[str, str] | None = None) -> Plan:
    """The dry run of importing `data` (the bytes of file_name, CSV or XLSX): nothing is stored.
    `options` are settings given on the command line; a file that gives the same setting
    differently is refused."""
    options = {name: value for name, value in (options or {}).items() if value is not None}
    sha256, idempotency_key = file_digest(data, kind.name, options)
    plan = Plan(kind.name, file_name, sha256, idempotency_key)
    table = read_table(data, format_of(Path(file_name)), kind.known_columns, kind.known_settings)
    _merge_options(plan, table, options)
    plan_rows(plan, kind, table, people)
    return plan


def _merge_options(plan: Plan, table, options: dict[str, str]) -> None:
    from api.spreadsheets import Cell

    for name, value in options.items():
        given = table.settings.get(name)
        if given is not None and given.text != value:
            plan.refuse(given.row, name, f"the file says {given.text!r} but the command line says {value!r}",
                        given.place)
        table.settings[name] = Cell(value, 0, name, f"--{name.replace('_', '-')}")


def template(path: Path) -> tuple[Kind, bytes]:
    """A template for the kind named by the file name (premiums.xlsx, receipts.csv, ...): the
    settings with examples, the header, two example rows."""
    file_format = format_of(path)
    name = next((kind for kind in KINDS if path.stem.lower().startswith(kind)), None)
    if name is None:
        raise InvalidInput(f"{path.name}: name the template after its kind: "
                           f"{', '.join(f'{kind}.{file_format}' for kind in KINDS)}", field="template")
    kind = KINDS[name]
    settings = [(column.name, column.example) for column in kind.settings]
    columns = [column.name for column in kind.columns]
    rows = [[example.get(name, "") for name in columns] for example in kind.example_rows]
    if file_format == "csv":
        return kind, write_csv(settings, columns, rows)
    notes = {column.name: f"{column.help}{'' if column.required else ' (optional)'}" for column in kind.columns}
    text_columns = {"nik", "worker", "phone"} & set(columns)
    return kind, write_xlsx(kind.name, settings, columns, rows, notes, text_columns)
