"""Cell text to payload values, as people type them in spreadsheets. Each parser returns the value
or raises CellError with a reason a person can act on; the ledger's own checks run afterwards."""

from __future__ import annotations

import re
from datetime import date

from api.spreadsheets import Cell

RUPIAH = re.compile(r"(?:Rp\.?\s?)?([0-9]{1,3}(?:([.,])[0-9]{3})?(?:\2[0-9]{3})*|[0-9]+)")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MONTH = re.compile(r"([0-9]{4}-[0-9]{2})(?:-01)?")
NIK = re.compile(r"[0-9]{16}")
REFERENCE = re.compile(r"[0-9a-f]{64}")
TRUE_WORDS = {"true", "yes", "ya", "y", "1"}
FALSE_WORDS = {"false", "no", "tidak", "t", "n", "0"}


class CellError(ValueError):
    """A cell that cannot be read as the value its column holds."""


def text(cell: Cell) -> str:
    return cell.text


def rupiah(cell: Cell) -> int:
    """Whole rupiah: 16800, 16.800, 16,800 or Rp16.800 (never decimals: the sen is not used)."""
    match = RUPIAH.fullmatch(re.sub(r"\s", "", cell.text))
    if match is None:
        raise CellError(f"{cell.text!r} is not a whole rupiah amount (write 16800 or 16.800)")
    return int(re.sub(r"[.,]", "", match.group(1)))


def calendar_date(cell: Cell) -> str:
    """YYYY-MM-DD (a workbook date cell is read as its date)."""
    if not DATE.fullmatch(cell.text):
        raise CellError(f"{cell.text!r} is not a date like 2025-03-31")
    try:
        return date.fromisoformat(cell.text).isoformat()
    except ValueError:
        raise CellError(f"{cell.text!r} is not a real date") from None


def month(cell: Cell) -> str:
    """YYYY-MM (a workbook date cell on the first of a month is read as that month)."""
    match = MONTH.fullmatch(cell.text)
    if match is None:
        raise CellError(f"{cell.text!r} is not a month like 2025-03")
    return match.group(1)


def boolean(cell: Cell) -> bool:
    word = cell.text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"{cell.text!r} is not yes or no (ya/tidak, true/false, 1/0)")


def nik(cell: Cell) -> str:
    """A NIK: 16 digits, typed as text (a workbook number cell has lost its last digits)."""
    if cell.number:
        raise CellError(f"cell {cell.place} holds the NIK as a number, and a spreadsheet keeps only 15 "
                        "significant digits of a number: format the column as Text and type the NIK again")
    value = cell.text.replace(" ", "").replace(".", "")
    if not NIK.fullmatch(value):
        raise CellError(f"{cell.text!r} is not a NIK (16 digits)")
    return value


def nik_or_reference(cell: Cell) -> str:
    """A worker given by NIK (16 digits) or by the worker reference (64 hex digits)."""
    lowered = cell.text.lower()
    if REFERENCE.fullmatch(lowered):
        return lowered
    try:
        return nik(cell)
    except CellError as error:
        raise CellError(f"{error}; or give the worker reference (64 hex digits)") from None


def category(cell: Cell) -> str:
    """'Ojek online', 'ojek-online' and 'ojek_online' are the same category."""
    return re.sub(r"[\s-]+", "_", cell.text.strip().lower())


def fund_type(cell: Cell) -> str:
    return cell.text.strip().lower()
