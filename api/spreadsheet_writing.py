"""Writing spreadsheets in the layout api/spreadsheets.py reads back (settings rows, a blank
row, the header, one row per record): the importer's templates, as CSV or XLSX."""

from __future__ import annotations

import csv
import io


def write_csv(settings: list[tuple[str, str]], columns: list[str], rows: list[list[object]]) -> bytes:
    """UTF-8 CSV with a byte-order mark (so Excel opens it as UTF-8): settings, a blank line, the table."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for name, value in settings:
        writer.writerow([name, value])
    if settings:
        writer.writerow([])
    writer.writerow(columns)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_xlsx(title: str, settings: list[tuple[str, str]], columns: list[str], rows: list[list[object]],
               notes: dict[str, str] | None = None, text_columns: set[str] = frozenset()) -> bytes:
    """A one-sheet workbook laid out like write_csv; `notes` become header comments, and
    `text_columns` are formatted as Text (a NIK typed there keeps its 16 digits)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    for name, value in settings:
        sheet.append([name, value])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    if settings:
        sheet.append([])
    sheet.append(columns)
    header_row = sheet.max_row if settings or rows or columns else 1
    for position, name in enumerate(columns, start=1):
        cell = sheet.cell(header_row, position)
        cell.font = Font(bold=True)
        if notes and name in notes:
            cell.comment = Comment(notes[name], "amanah")
        sheet.column_dimensions[cell.column_letter].width = max(14, len(name) + 4)
    for row in rows:
        sheet.append(row)
    for position, name in enumerate(columns, start=1):
        if name in text_columns:
            for line in range(header_row + 1, header_row + 1000):
                sheet.cell(line, position).number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
