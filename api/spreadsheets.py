"""Reading the spreadsheets people keep (CSV and XLSX) as plain text cells (writing them, for
the templates: spreadsheet_writing.py).

A file holds an optional block of settings rows (`name | value`, one value for the whole file)
followed by a header row and one data row per record. Every cell comes back as text with the
place a person would look for it ("D37" in a workbook, "row 37, column amount_rupiah" in a CSV),
so a refusal can name it. Formulas and files in another encoding than UTF-8 are refused: the
ledger records what the file says, not what a spreadsheet program would compute or guess."""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ledger.errors import InvalidInput

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_DATA_ROWS = 19_999  # a submission holds at most 20,000 envelopes: a batch header and its lines
MAX_COLUMNS = 40
FORMATS = ("csv", "xlsx")
DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class Raw:
    """One cell as read: its text, where it is in a workbook, and what it held."""

    text: str
    place: str | None = None     # "D37" in a workbook; None in a CSV
    number: bool = False         # a workbook number cell (Excel keeps 15 significant digits)
    formula: str | None = None


@dataclass(frozen=True)
class Cell:
    text: str
    row: int
    column: str      # the header name (or the setting's name)
    place: str       # "D37" or "row 37"
    number: bool = False
    refused: bool = False  # refused already (a formula): no further reason is given for it


@dataclass(frozen=True)
class Refusal:
    """One reason a file cannot be imported: where (row, column, cell) and why."""

    row: int | None
    column: str | None
    reason: str
    cell: str | None = None

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "cell": self.cell, "reason": self.reason}

    def __str__(self) -> str:
        where = [f"row {self.row}" if self.row else "file"]
        if self.column:
            where.append(f"column {self.column}")
        if self.cell:
            where.append(f"cell {self.cell}")
        return f"{', '.join(where)}: {self.reason}"


@dataclass
class Table:
    settings: dict[str, Cell] = field(default_factory=dict)
    header_row: int = 0
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Cell]] = field(default_factory=list)   # each keyed by column, blanks left out
    row_numbers: list[int] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


def format_of(path: Path) -> str:
    """'csv' or 'xlsx' from the file name, or InvalidInput."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InvalidInput(f"{path.name}: the file must end in .csv or .xlsx", field="file")
    return suffix


def read_table(data: bytes, file_format: str, known_columns: set[str], known_settings: set[str]) -> Table:
    """The settings, header and rows of a CSV or XLSX file, with its cell-level refusals."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", field="file")
    grid = _csv_grid(data) if file_format == "csv" else _xlsx_grid(data)
    table = Table()
    _split(grid, table, known_columns, known_settings)
    return table


# ---- CSV ------------------------------------------------------------------------------------

def _csv_grid(data: bytes) -> list[tuple[int, list[Raw]]]:
    text = _decode(data)
    # Excel writes ';' where the decimal mark is a comma (an Indonesian locale): take the
    # separator the first lines use most.
    sample = text[:8192].splitlines()[:20]
    delimiter = max(DELIMITERS, key=lambda candidate: sum(line.count(candidate) for line in sample))
    grid = []
    for number, values in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
        if number > MAX_DATA_ROWS + 100:
            raise InvalidInput(f"the file has more than {MAX_DATA_ROWS} rows", field="file")
        # A CSV cell starting with "=" is a formula to the spreadsheet that opens it: refused too.
        grid.append((number, [Raw(value, formula=value.strip() if value.strip().startswith("=") else None)
                              for value in values]))
    return grid


def _decode(data: bytes) -> str:
    """UTF-8 text (a byte-order mark is allowed); any other encoding is refused, named if we can."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput("the CSV is UTF-16 (Excel's \"Unicode text\"); save it as \"CSV UTF-8\"", field="file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        guess = "Windows-1252 or Latin-1" if _looks_single_byte(data) else "not UTF-8"
        raise InvalidInput(f"the CSV is not UTF-8 (byte 0x{data[error.start]:02X} on line {line}; it looks like "
                           f"{guess}); save it as \"CSV UTF-8\" and import it again", field="file") from None


def _looks_single_byte(data: bytes) -> bool:
    return any(0xA0 <= byte <= 0xFF for byte in data) and b"\x00" not in data


# ---- XLSX -----------------------------------------------------------------------------------

def _xlsx_grid(data: bytes) -> list[tuple[int, list[Raw]]]:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns of Excel features it skips (data validation, ...)
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        except zipfile.BadZipFile:
            raise InvalidInput("the file is not an XLSX workbook (an old .xls must be saved as .xlsx)",
                               field="file") from None
        except Exception as error:  # noqa: BLE001  (a damaged workbook can fail in many ways: refuse, never a 500)
            raise InvalidInput(f"the workbook cannot be read ({type(error).__name__})", field="file") from None
        try:
            return _workbook_rows(workbook.worksheets[0], get_column_letter)
        except InvalidInput:
            raise
        except Exception as error:  # noqa: BLE001
            raise InvalidInput(f"the workbook cannot be read ({type(error).__name__})", field="file") from None
        finally:
            workbook.close()


def _workbook_rows(sheet, get_column_letter) -> list[tuple[int, list[Raw]]]:
    """The first sheet's rows (the data goes on the first sheet)."""
    grid = []
    for number, cells in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS), start=1):
        if number > MAX_DATA_ROWS + 100:
            raise InvalidInput(f"the workbook has more than {MAX_DATA_ROWS} rows", field="file")
        grid.append((number, [_xlsx_text(cell, f"{get_column_letter(position)}{number}")
                              for position, cell in enumerate(cells, start=1)]))
    return grid


def _xlsx_text(cell, place: str) -> Raw:
    """A workbook cell as text; a formula is kept aside so it can be refused by name."""
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")):
        return Raw(str(value), place, formula=str(value))
    if value is None:
        return Raw("", place)
    if isinstance(value, bool):
        return Raw("true" if value else "false", place)
    if isinstance(value, datetime):
        return Raw(value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(), place)
    if isinstance(value, date):
        return Raw(value.isoformat(), place)
    if isinstance(value, (int, float)):
        return Raw(str(int(value)) if float(value).is_integer() else repr(value), place, number=True)
    return Raw(str(value), place)


# ---- settings, header, rows -----------------------------------------------------------------

def _split(grid: list[tuple[int, list[Raw]]], table: Table, known_columns: set[str],
           known_settings: set[str]) -> None:
    header_at = next((position for position, (_, values) in enumerate(grid)
                      if sum(_name(raw.text) in known_columns for raw in values) >= 2), None)
    if header_at is None:
        table.refusals.append(Refusal(None, None, "no header row: expected a row naming the columns "
                                      f"({', '.join(sorted(known_columns))})"))
        return
    for number, values in grid[:header_at]:
        _setting(number, values, table, known_settings)
    table.header_row, header = grid[header_at][0], grid[header_at][1]
    table.columns = _columns(header, table, known_columns)
    for number, values in grid[header_at + 1:]:
        if all(not raw.text.strip() for raw in values):
            continue
        if len(table.rows) == MAX_DATA_ROWS:
            raise InvalidInput(f"at most {MAX_DATA_ROWS} rows per file: split it", field="file")
        table.rows.append(_row(number, values, table))
        table.row_numbers.append(number)


def _name(text: str) -> str:
    return text.strip().lower().replace(" ", "_").removesuffix(":")


def _setting(number: int, values: list[Raw], table: Table, known_settings: set[str]) -> None:
    filled = [raw for raw in values if raw.text.strip()]
    if not filled:
        return
    name = _name(filled[0].text)
    if name not in known_settings or len(filled) > 2:
        table.refusals.append(Refusal(number, None, f"{filled[0].text.strip()!r} is not a setting of this file "
                                      f"(settings: {', '.join(sorted(known_settings))}; a setting row is "
                                      "`name | value`)", filled[0].place))
        return
    if name in table.settings:
        table.refusals.append(Refusal(number, name, f"the setting {name} is given twice", filled[0].place))
        return
    value = filled[1] if len(filled) == 2 else Raw("", None)
    table.settings[name] = _cell(value, number, name, table)


def _columns(header: list[Raw], table: Table, known_columns: set[str]) -> list[str]:
    columns: list[str] = []
    for raw in header:
        name = _name(raw.text)
        if name and name not in known_columns:
            table.refusals.append(Refusal(table.header_row, raw.text.strip(), "is not a column of this file "
                                          f"(columns: {', '.join(sorted(known_columns))})", raw.place))
        elif name and name in columns:
            table.refusals.append(Refusal(table.header_row, name, "the column appears twice", raw.place))
        columns.append(name)
    return columns


def _row(number: int, values: list[Raw], table: Table) -> dict[str, Cell]:
    row = {}
    for position, raw in enumerate(values):
        if not raw.text.strip():
            continue
        column = table.columns[position] if position < len(table.columns) else ""
        if not column:
            table.refusals.append(Refusal(number, None, "a value stands in a column without a header", raw.place))
            continue
        row[column] = _cell(raw, number, column, table)
    return row


def _cell(raw: Raw, number: int, column: str, table: Table) -> Cell:
    """The cell; a formula is refused by its cell name."""
    if raw.formula is not None:
        where = f"cell {raw.place}" if raw.place else "the cell"
        table.refusals.append(Refusal(number, column, f"{where} holds a formula ({raw.formula[:60]}): the "
                                      "ledger records values, so paste the values instead", raw.place))
    return Cell(raw.text.strip(), number, column, raw.place or f"row {number}", raw.number, raw.formula is not None)
