"""Documents people read: CSV and PDF renderings of the signed JSON impact statements and
award lists (projections/reports.py). Pure functions of the JSON dict; no Flask, no database.
This module names them; the work is in render_text (rupiah, printable text), render_csv,
render_page (the PDF page), render_charts, render_document (verification section, attachment),
render_statement and render_awards.

The signed JSON stays the document of record; CSV and PDF are renderings of it:

- Every PDF embeds the exact signed JSON it was rendered from as an attachment
  (`impact-statement.json` / `award-list.json`), so the signature can be checked from the PDF
  alone: the printed page shows labels and charts, not every member of the signed JSON (category
  codes, the signature's own fields), so the signed bytes cannot be rebuilt from it.
- Rupiah in the PDFs, one rule: every amount is written Indonesian style, `Rp42.000.000` (dot
  thousands separator, no space, whole rupiah), beside both the Indonesian and the English label,
  and counts likewise (`11.860`). A bilingual page then shows each amount once and one way; the
  rupiah has no decimals, so the dot cannot be misread as one. `rupiah(amount, "en")` gives the
  English style (`Rp42,000,000`) for English-only documents.
- Award reasons are printed as the ledger signed them (projections/awards.py writes them in
  English, with English-style rupiah): rewording them would misquote a signed document.
- CSV (RFC 4180, CRLF line ends): rupiah are plain integers with no formatting, so a spreadsheet
  sums them; every text cell is quoted. Formula injection guard: where a text cell, or any piece
  of it after a comma, semicolon, tab, pipe or line break (and spaces or quotes), starts with =,
  +, -, @, tab or carriage return, an apostrophe is put before that character, so a spreadsheet
  that splits on any of those separators reads text, not a formula. Remove those apostrophes to
  get the signed value back (base64 roots and signatures can start with "+").
- Fonts: DejaVu Sans, Sans Bold and Sans Mono ship in projections/fonts/ (Bitstream Vera licence
  with DejaVu changes in the public domain, see fonts/LICENSE-DejaVu.txt), so legal names in
  Latin, Greek, Cyrillic and more print as written, and the em dash of a signed note's signature
  line is kept. A character the font lacks (CJK, most emoji) is transliterated (NFKD without
  accents) or printed as "?"; zero-width and other format characters are dropped. If the font
  files are missing (a wheel needs them declared as package data), the PDF falls back to the core
  Helvetica and Courier fonts, which hold latin-1 only: the same replacement then turns "Ω" into
  "?" and the em dash into "-". Nothing a legal name holds can make rendering fail.
"""

from projections.render_awards import awards_pdf
from projections.render_charts import Pdf as _Pdf
from projections.render_csv import AWARD_COLUMNS, _write_csv, awards_csv, statement_csv
from projections.render_document import finish as _finish
from projections.render_page import count, decimal, money
from projections.render_statement import statement_pdf
from projections.render_text import _LATIN1_PRINTABLE, LANGUAGES, printable, rupiah

__all__ = ["AWARD_COLUMNS", "LANGUAGES", "_LATIN1_PRINTABLE", "_Pdf", "_finish", "_write_csv", "awards_csv",
           "awards_pdf", "count", "decimal", "money", "printable", "rupiah", "statement_csv", "statement_pdf"]
