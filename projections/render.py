"""Documents people read: CSV and PDF renderings of the signed JSON impact statements and
award lists (projections/reports.py). Pure functions of the JSON dict; no Flask, no database.

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

from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, TableCellFillMode, VAlign, XPos, YPos
from fpdf.fonts import FontFace

from projections.formatting import number
from projections.formatting import rupiah as _format_rupiah

FONT_DIR = Path(__file__).with_name("fonts")
FONT_FILES = {("sans", ""): "DejaVuSans.ttf", ("sans", "B"): "DejaVuSans-Bold.ttf", ("mono", ""): "DejaVuSansMono.ttf"}
LANGUAGES = ("id", "en")


def rupiah(amount: int, language: str) -> str:
    """Whole rupiah as people write it: "id" -> Rp42.000.000, "en" -> Rp42,000,000; -Rp1.000."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"rupiah are whole integers, not {type(amount).__name__}")
    return _format_rupiah(amount, language)


# ---------------------------------------------------------------------------------------------
# CSV

FIGURES = ("pledged_rupiah", "pledged_current_rupiah", "pledge_fulfilment_percent", "received_rupiah",
           "pledge_outstanding_rupiah", "amil_rupiah", "disbursed_rupiah", "unspent_held_rupiah",
           "premiums_funded_rupiah", "premiums_refunded_rupiah", "worker_months", "full_year_equivalent_workers",
           "programme_full_year_equivalent_workers", "distinct_workers_reached_overlapping")
BREAKDOWN_FIELDS = ("worker_months", "premiums_funded_rupiah")
MONTH_FIELDS = ("received_rupiah", "premiums_funded_rupiah", "worker_months")
AWARD_COLUMNS = ("year", "status", "awarded", "rank", "tier", "company", "legal_name", "invited_on", "received_rupiah",
                 "pledged_rupiah", "award_pledge_basis_rupiah", "pledge_fulfilment_percent", "worker_months",
                 "full_year_equivalent_workers", "premiums_funded_rupiah", "decision_entry", "decided_by", "decided_on",
                 "criteria_entry", "reasons")
CLAIM_FIELDS = ("count", "total_rupiah", "amounts_rupiah")
# A cell, or a piece of one after a separator some spreadsheet splits on (comma, semicolon in
# Indonesian locales, tab, pipe, line break), starting with one of these is read as a formula.
_FORMULA_START = re.compile(r"(^|[,;|\t\r\n])([ \"']*)(?=[=+\-@\t\r])")


def _csv_value(value: object) -> object:
    """A cell as written: integers as they are, text guarded against formula injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return value
    if isinstance(value, (list, dict)):
        value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return _FORMULA_START.sub(lambda match: match.group(1) + match.group(2) + "'", str(value))


def _write_csv(rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO(newline="")
    # RFC 4180; every text cell quoted, so a separator inside one never splits it for a reader
    # that honours quotes; integers (rupiah, counts) stay bare numbers a spreadsheet sums.
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return buffer.getvalue()


def statement_csv(statement: dict) -> str:
    """An impact statement as `section,key,value` rows with integer rupiah.

    Breakdowns use the section to name what is counted and the key to name the group, so a
    spreadsheet sums a section: `by_category.worker_months,ojek_online,10`."""
    company = statement.get("company") or {}
    rows: list[tuple[str, str, object]] = [("section", "key", "value")]
    rows += [("document", key, statement.get(key)) for key in ("kind", "version", "ledger", "generated_at")]
    rows += [("company", "organisation", company.get("organisation")), ("company", "legal_name", company.get("legal_name"))]
    rows += [("period", key, statement.get(key)) for key in ("period", "from", "to")]
    extra = sorted(key for key in statement if key.endswith("_rupiah") and key not in FIGURES)
    rows += [("figures", key, statement.get(key, 0)) for key in (*FIGURES, *extra)]
    for dimension in ("by_category", "by_kelurahan"):
        groups = statement.get(dimension) or {}
        for field in BREAKDOWN_FIELDS:
            rows += [(f"{dimension}.{field}", name, values.get(field, 0)) for name, values in groups.items()]
    for field in MONTH_FIELDS:
        rows += [(f"by_month.{field}", month["month"], month.get(field, 0)) for month in statement.get("by_month") or []]
    rows += [("pledge_changes", str(change.get("entry")), change) for change in statement.get("pledge_changes") or []]
    claims = statement.get("claims_paid") or {}
    for field in CLAIM_FIELDS:  # JKM (to heirs) and JKK (to the worker) side by side, never one sum
        rows += [(f"claims_paid.{field}", benefit, values.get(field, 0))
                 for benefit, values in (claims.get("by_benefit") or {}).items()]
    rows.append(("claims_paid", "entries", claims.get("entries", [])))
    rows.append(("entries", "ranges", statement.get("entries", [])))
    rows += _checkpoint_and_signature_rows(statement)
    return _write_csv(rows)


def _checkpoint_and_signature_rows(document: dict) -> list[tuple[str, str, object]]:
    checkpoint = document.get("checkpoint") or {}
    signature = document.get("signature") or {}
    return ([("checkpoint", key, checkpoint.get(key)) for key in ("tree_size", "root", "note")]
            + [("signature", key, signature.get(key))
               for key in ("algorithm", "canonicalisation", "context", "verifier_key", "value")])


def awards_csv(award_list: dict) -> str:
    """An award list as one row per company: awarded companies in rank order, then those listed
    separately (awarded=no, with their reasons joined by "; ")."""
    rows: list[list[object]] = [list(AWARD_COLUMNS)]
    year = award_list.get("year")
    decision = award_list.get("decision") or {}
    source = award_list.get("criteria_source") or {}
    decided = {"decision_entry": decision.get("entry"), "decided_by": decision.get("signed_by"),
               "decided_on": decision.get("on"), "criteria_entry": source.get("entry")}
    for status, awarded, entries in (("awarded", True, award_list.get("awarded") or []),
                                     ("contributed, not awarded", False, award_list.get("not_awarded") or []),
                                     ("invited, did not contribute", False,
                                      award_list.get("invited_not_contributing") or [])):
        for entry in entries:
            values = {**entry, **decided, "year": year, "status": status, "awarded": awarded,
                      "reasons": "; ".join(entry.get("reasons") or [])}
            rows.append([values.get(column) for column in AWARD_COLUMNS])
    return _write_csv(rows)


# ---------------------------------------------------------------------------------------------
# Text that any font can print

_FALLBACKS = {"\u2014": "-", "\u2013": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2018": "'", "\u2019": "'",
              "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2026": "...", "\u2022": "*", "\u2265": ">=",
              "\u2264": "<=", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u00b7": "-"}
_LATIN1_PRINTABLE = frozenset(chr(code) for code in [*range(0x20, 0x7F), *range(0xA0, 0x100)])


def printable(text: str, supported: Callable[[str], bool], keep_newlines: bool = True) -> str:
    """`text` with every character `supported` cannot print replaced by a plain equivalent
    (punctuation table, then NFKD without combining accents) or "?"; format characters such as
    zero-width joiners and variation selectors are dropped."""
    out: list[str] = []
    for char in str(text):
        if unicodedata.category(char) == "Cs":  # a lone surrogate cannot be encoded at all
            continue
        if char == "\n" and keep_newlines:
            out.append(char)
        elif char in "\r\n\t\v\f":
            out.append(" ")
        elif supported(char):
            out.append(char)
        elif unicodedata.category(char) in ("Cf", "Mn", "Me", "Cc") or 0xFE00 <= ord(char) <= 0xFE0F:
            continue
        else:
            for candidate in (_FALLBACKS.get(char, ""), "".join(
                    c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))):
                if candidate and candidate != char and all(supported(c) for c in candidate):
                    out.append(candidate)
                    break
            else:
                out.append("?")
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# PDF

INK = (33, 37, 41)
MUTED = (108, 117, 125)
BRAND = (0, 94, 102)
BRAND_LIGHT = (228, 240, 241)
RULE = (206, 212, 218)
SERIES = {"received": (0, 94, 102), "premiums": (214, 137, 16), "worker_months": (56, 142, 60)}
MONTHS_ID = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
CATEGORIES = {"ojek_online": ("Ojek online", "Online motorcycle-taxi drivers"),
              "dasawisma": ("Dasawisma", "Neighbourhood women's groups"),
              "jumantik": ("Jumantik", "Mosquito-larva monitors"),
              "pedagang_asongan": ("Pedagang asongan", "Street vendors"),
              "other": ("Lainnya", "Other")}
BENEFITS = {"jkm": ("JKM, jaminan kematian", "death benefit"),
            "jkk": ("JKK, jaminan kecelakaan kerja", "work-accident benefit"),
            "jht": ("JHT, jaminan hari tua", "old-age savings")}
RANK_BY = {"received_rupiah": ("Dana diterima", "Money received"),
           "worker_months": ("Pekerja-bulan", "Worker-months"),
           "premiums_funded_rupiah": ("Iuran didanai", "Premiums funded")}


def money(amount: int) -> str:
    """The PDFs' one rupiah rule (see the module docstring)."""
    return rupiah(int(amount), "id")


def count(value: int) -> str:
    return number(int(value), "id")


class _Pdf(FPDF):
    """A4 portrait with the shipped Unicode fonts (or the core fonts), a running header from
    page 2 on, page numbers, and text made printable in whatever font is current."""

    def __init__(self, running_title: str, ledger: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.running_title = running_title
        self.ledger_name = ledger
        self.unicode_fonts = all((FONT_DIR / name).is_file() for name in FONT_FILES.values())
        if self.unicode_fonts:
            for (family, style), name in FONT_FILES.items():
                self.add_font(family, style, str(FONT_DIR / name))
            self.sans, self.mono = "sans", "mono"
        else:
            self.sans, self.mono = "helvetica", "courier"
        self.set_margins(16, 16, 16)
        self.set_auto_page_break(True, margin=18)
        self.set_creator("Amanah ledger")
        self.set_text_color(*INK)

    def metadata(self, title: str, subject: str) -> None:
        """Document properties (UTF-16 in the PDF, so only lone surrogates and controls go)."""
        plain = lambda text: printable(text, lambda char: unicodedata.category(char) != "Cc", False)  # noqa: E731
        self.set_title(plain(title))
        self.set_subject(plain(subject))
        self.set_author(plain(self.ledger_name))

    @property
    def content_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def normalize_text(self, text: str) -> str:
        font = self.current_font
        if font is not None and font.type == "TTF":
            cmap = font.cmap
            return super().normalize_text(printable(text, lambda char: ord(char) in cmap))
        return super().normalize_text(printable(text, _LATIN1_PRINTABLE.__contains__))

    def font(self, size: float, bold: bool = False, mono: bool = False, color: tuple = INK) -> None:
        self.set_font(self.mono if mono else self.sans, "B" if bold and not mono else "", size)
        self.set_text_color(*color)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.font(7.5, color=MUTED)
        self.set_xy(self.l_margin, 8)
        self.cell(self.content_width, 4, self.running_title, align=Align.L)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, 12.5, self.w - self.r_margin, 12.5)
        self.set_y(16)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y() - 1.5, self.w - self.r_margin, self.get_y() - 1.5)
        self.font(7.5, color=MUTED)
        self.cell(self.content_width * 0.7, 4, f"Amanah · {self.ledger_name}", align=Align.L)
        self.cell(self.content_width * 0.3, 4, f"Halaman / Page {self.page_no()} / {{nb}}", align=Align.R)

    # building blocks ----------------------------------------------------------------------

    def ensure(self, height: float) -> None:
        """Start a new page unless `height` mm still fit on this one."""
        if self.get_y() + height > self.h - self.b_margin:
            self.add_page()

    def banner(self, kicker: str, title: str, subtitle: str) -> None:
        """The first page's coloured band, as tall as its wrapped title and subtitle need."""
        self.font(19, bold=True)
        title_lines = len(self.multi_cell(self.content_width, 8.5, title, dry_run=True, output="LINES"))
        self.font(8.5)
        subtitle_lines = len(self.multi_cell(self.content_width, 4.2, subtitle, dry_run=True, output="LINES"))
        height = 9 + 4 + 1.5 + 8.5 * title_lines + 1 + 4.2 * subtitle_lines + 6
        self.set_fill_color(*BRAND)
        self.rect(0, 0, self.w, height, style="F")
        self.set_xy(self.l_margin, 9)
        self.font(7.5, bold=True, color=(178, 223, 219))
        self.cell(self.content_width, 4, kicker, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)
        self.font(19, bold=True, color=(255, 255, 255))
        self.multi_cell(self.content_width, 8.5, title, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)
        self.font(8.5, color=(224, 242, 241))
        self.multi_cell(self.content_width, 4.2, subtitle, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(height + 6)

    def heading(self, indonesian: str, english: str, keep_with: float = 30) -> None:
        """A section heading, "Indonesian / English", kept on a page with `keep_with` mm after it."""
        self.ensure(10 + keep_with)
        self.ln(3)
        self.font(11.5, bold=True, color=BRAND)
        self.cell(self.get_string_width(indonesian) + 1, 6, indonesian)
        self.font(11.5, color=MUTED)
        self.cell(0, 6, f"/ {english}", align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*BRAND)
        self.set_line_width(0.4)
        self.line(self.l_margin, self.get_y() + 0.5, self.w - self.r_margin, self.get_y() + 0.5)
        self.ln(3)

    def bilingual(self, width: float, height: float, indonesian: str, english: str, size: float = 9,
                  bold: bool = False) -> None:
        """One line "Indonesian / English", the English part muted; clipped to `width`."""
        x, y = self.get_x(), self.get_y()
        self.font(size, bold=bold)
        first = self.get_string_width(indonesian)
        self.cell(min(first + 1, width), height, indonesian)
        self.font(size * 0.92, color=MUTED)
        rest = max(width - first - 1, 0)
        self.cell(rest, height, self._clip(f"/ {english}", rest))
        self.set_xy(x + width, y)

    def _clip(self, text: str, width: float) -> str:
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "...") > width:
            text = text[:-1]
        return text + "..."

    def paragraph(self, text: str, size: float = 8.5, color: tuple = INK, height: float = 4.2) -> None:
        self.font(size, color=color)
        self.multi_cell(self.content_width, height, text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def meta(self, rows: list[tuple[str, str, str]], label_width: float = 52) -> None:
        """Label/value lines: (Indonesian label, English label, value)."""
        for indonesian, english, value in rows:
            self.ensure(5)
            self.set_x(self.l_margin)
            self.bilingual(label_width, 5, indonesian, english, size=8.5)
            self.font(9)
            self.multi_cell(self.content_width - label_width, 5, value, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def mono_block(self, label_id: str, label_en: str, text: str, size: float = 7.5) -> None:
        """A label line, then `text` in the monospace font, hard-wrapped to the width."""
        self.font(size, mono=True)
        per_line = max(int((self.content_width - 4) // self.get_string_width("M")), 16)
        lines = [chunk for line in str(text).rstrip("\n").split("\n")
                 for chunk in (_chunks(line, per_line) if line else [""])]
        self.ensure(6 + 3.6 * min(len(lines), 4))
        self.set_x(self.l_margin)
        self.bilingual(self.content_width, 5, label_id, label_en, size=8.5, bold=True)
        self.ln(5)
        self.set_fill_color(246, 248, 249)
        self.font(size, mono=True)
        for line in lines:
            self.ensure(3.6)
            self.set_x(self.l_margin)
            self.cell(self.content_width, 3.6, "  " + line, fill=True, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)

    def table(self, headings: list[tuple[str, str]], rows: list[list[str]], widths: tuple, aligns: tuple,
              size: float = 8.5, padding: tuple = (1.2, 1.8), line_height: float = 4.4) -> None:
        """A table with bilingual headings ("Indonesian\\nEnglish"), repeated after page breaks."""
        self.font(size)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        heading_style = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=BRAND, size_pt=size - 0.5)
        self.ensure(18)
        self.set_fill_color(255, 255, 255)  # fpdf2 fills the unstriped rows with the current colour
        with super().table(width=self.content_width, col_widths=widths, text_align=aligns, line_height=line_height,
                           borders_layout=TableBordersLayout.HORIZONTAL_LINES, headings_style=heading_style,
                           cell_fill_color=(246, 248, 249), cell_fill_mode=TableCellFillMode.EVEN_ROWS,
                           padding=padding, v_align=VAlign.M) as grid:
            header = grid.row()
            for indonesian, english in headings:
                header.cell(f"{indonesian}\n{english}")
            for values in rows:
                row = grid.row()
                for value in values:
                    row.cell(value)
        self.ln(2)

    def key_cards(self, cards: list[tuple[str, str, str, tuple]]) -> None:
        """Big headline numbers in boxes: (value, Indonesian label, English label, colour)."""
        gap = 3
        width = (self.content_width - gap * (len(cards) - 1)) / len(cards)
        top = self.get_y()
        for index, (value, indonesian, english, colour) in enumerate(cards):
            x = self.l_margin + index * (width + gap)
            self.set_fill_color(*BRAND_LIGHT)
            self.rect(x, top, width, 22, style="F")
            self.set_fill_color(*colour)
            self.rect(x, top, 1.4, 22, style="F")
            self.set_xy(x + 3.5, top + 3)
            self.fit_font(value, width - 5, 12.5, bold=True)  # a figure is never cut: it shrinks
            self.cell(width - 5, 6.5, value)
            self.set_xy(x + 3.5, top + 11)
            self.fit_font(indonesian, width - 5, 7.5)
            self.cell(width - 5, 3.8, self._clip(indonesian, width - 5))
            self.set_xy(x + 3.5, top + 15)
            self.fit_font(english, width - 5, 7.2, color=MUTED)
            self.cell(width - 5, 3.8, self._clip(english, width - 5))
        self.set_xy(self.l_margin, top + 22 + 4)

    def fit_font(self, text: str, width: float, size: float, bold: bool = False, color: tuple = INK,
                 smallest: float = 5.5) -> None:
        """The largest font size up to `size` at which `text` fits `width` mm (down to `smallest`)."""
        self.font(size, bold=bold, color=color)
        while size > smallest and self.get_string_width(text) > width:
            size -= 0.25
            self.font(size, bold=bold, color=color)

    def bar_panel(self, title_id: str, title_en: str, labels: list[str], values: list[int], colour: tuple,
                  fmt: Callable[[int], str], height: float = 20) -> None:
        """A labelled bar chart drawn with rectangles and lines: gridlines at 0, half and a round
        top value, one bar per label."""
        self.ensure(height + 14)
        self.set_x(self.l_margin)
        self.set_fill_color(*colour)
        self.rect(self.l_margin, self.get_y() + 1.3, 2.4, 2.4, style="F")
        self.set_x(self.l_margin + 4)
        self.bilingual(self.content_width - 4, 5, title_id, title_en, size=8.5, bold=True)
        self.ln(6.5)
        axis = 26
        left, top = self.l_margin + axis, self.get_y()
        width, base = self.content_width - axis, top + height
        peak = _nice_ceiling(max(values, default=0))
        ticks = [0, peak // 2, peak] if peak % 2 == 0 else [0, peak]
        self.set_line_width(0.15)
        for tick in ticks:
            y = base - height * tick / peak
            self.set_draw_color(*(RULE if tick else MUTED))
            self.line(left, y, left + width, y)
            self.font(6.3, color=MUTED)
            self.set_xy(self.l_margin, y - 1.8)
            self.cell(axis - 2, 3.6, fmt(tick), align=Align.R)
        slot = width / max(len(values), 1)
        bar = min(slot * 0.58, 12)
        self.set_fill_color(*colour)
        for index, (label, value) in enumerate(zip(labels, values, strict=True)):
            centre = left + slot * (index + 0.5)
            if value > 0:
                bar_height = max(height * value / peak, 0.4)
                self.rect(centre - bar / 2, base - bar_height, bar, bar_height, style="F")
            self.font(6.3, color=MUTED)
            self.set_xy(centre - slot / 2, base + 0.8)
            self.cell(slot, 3.4, label, align=Align.C)
        self.set_xy(self.l_margin, base + 6)


def _chunks(text: str, size: int) -> list[str]:
    return [text[start:start + size] for start in range(0, len(text), size)] or [""]


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5, 5 x 10^k (whole numbers only) that is >= value; 1 for 0."""
    if value <= 1:
        return 1
    power = 10 ** int(math.floor(math.log10(value)))
    for candidate in (power, 2 * power, 5 * power // 2, 5 * power, 10 * power):
        if candidate >= value and candidate == int(candidate):
            return int(candidate)
    return 10 * power  # pragma: no cover - the last candidate always fits


def _month_label(month: str) -> str:
    try:
        return MONTHS_ID[int(month[5:7]) - 1]
    except (ValueError, IndexError):
        return month


def _ranges(ranges: list) -> str:
    parts = [str(first) if first == last else f"{first}–{last}" for first, last in ranges]
    return ", ".join(parts) if parts else "–"


def _created(document: dict) -> datetime | None:
    try:
        return datetime.fromisoformat(str(document.get("generated_at")).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _finish(pdf: _Pdf, document: dict, attachment: str, description: str) -> bytes:
    # backslashreplace writes a lone surrogate as its JSON escape, so the attachment still parses back
    body = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8", "backslashreplace")
    created = _created(document)
    pdf.embed_file(bytes=body, basename=attachment, desc=description, mime_type="application/json",
                   modification_date=created, creation_date=created)
    if created is not None:
        pdf.set_creation_date(created)
    return bytes(pdf.output())


def _award_decision(pdf: _Pdf, award_list: dict) -> None:
    """Who decided the list, when, under which criteria, and the city's signature; or that the
    city has not decided yet, and whose criteria the list was computed under."""
    decision = award_list.get("decision")
    source = award_list.get("criteria_source")
    pdf.heading("Keputusan Pemerintah Kota", "The city's decision", keep_with=30)
    if not decision:
        criteria = (f"kriteria yang diterbitkan {source.get('legal_name')} pada {source.get('on')} (entri "
                    f"#{source.get('entry')}) / the criteria it published (entry #{source.get('entry')})") if source \
            else "kriteria bawaan, diasumsikan / default criteria, assumed"
        pdf.paragraph(f"Belum diputuskan / Not decided yet. Dihitung menurut / Computed under: {criteria}.", size=8)
        return
    pdf.meta([("Diputuskan oleh", "Decided by", f"{decision.get('legal_name')} ({decision.get('signed_by')})"),
              ("Tanggal keputusan", "Decided on", str(decision.get("on", ""))),
              ("Dicatat", "Recorded", str(decision.get("recorded_at", ""))),
              ("Entri keputusan", "Decision entry", f"#{decision.get('entry')}"),
              ("Entri kriteria", "Criteria entry", f"#{decision.get('criteria_entry')}"),
              ("Checkpoint", "Checkpoint", count((decision.get("checkpoint") or {}).get("tree_size", 0))),
              ("Kunci", "Key id", str(decision.get("key_id", "")))], label_width=52)
    pdf.mono_block("Tanda tangan Pemerintah Kota (Ed25519, base64)", "The city's signature",
                   str(decision.get("signature", "")))
    differences = decision.get("differences_from_current_figures") or []
    if differences:
        pdf.paragraph("Angka saat ini berbeda dari keputusan / Today's figures differ from the decision: "
                      + "; ".join(differences), size=7.5, color=MUTED, height=3.6)


def _verification(pdf: _Pdf, document: dict, attachment: str) -> None:
    """Checkpoint, how to verify, and the signature block."""
    checkpoint = document.get("checkpoint") or {}
    signature = document.get("signature") or {}
    pdf.heading("Checkpoint ledger", "Ledger checkpoint", keep_with=40)
    pdf.paragraph("Angka di dokumen ini dihitung dari ledger sampai checkpoint bertanda tangan berikut. / "
                  "The figures in this document were computed from the ledger up to this signed checkpoint.",
                  size=8, color=MUTED)
    pdf.ln(1)
    pdf.meta([("Ukuran pohon", "Tree size", count(checkpoint.get("tree_size", 0))),
              ("Ledger", "Ledger", str(document.get("ledger", "")))], label_width=52)
    pdf.mono_block("Root (SHA-256, base64)", "Merkle tree root", str(checkpoint.get("root", "")))
    if checkpoint.get("note"):
        pdf.mono_block("Catatan bertanda tangan", "Signed note", str(checkpoint["note"]), size=7)
    context = signature.get("context", "amanah/document/v1")
    pdf.heading("Cara memverifikasi", "How to verify", keep_with=50)
    steps = [
        (f"Ambil checkpoint dari /api/v1/checkpoint di server ledger {document.get('ledger', '')}: ukuran pohon dan "
         "root di atas harus sama, atau checkpoint yang lebih baru harus konsisten dengannya "
         "(/api/v1/proofs/consistency).",
         "Fetch the checkpoint from /api/v1/checkpoint on the ledger server: the tree size and root above must "
         "match it, or a newer checkpoint must be consistent with them (/api/v1/proofs/consistency)."),
        (f"Periksa tanda tangan dengan kunci verifikasi yang tercetak di bawah. Tanda tangan Ed25519 mencakup "
         f"\"{context}\" dan baris baru, diikuti JCS (RFC 8785) dokumen JSON tanpa anggota \"signature\". "
         f"JSON bertanda tangan itu terlampir di PDF ini ({attachment}).",
         f"Check the signature with the verifier key printed below. The Ed25519 signature covers \"{context}\" "
         f"and a newline, followed by the JCS (RFC 8785) of the JSON document minus its \"signature\" member. "
         f"That signed JSON is attached to this PDF ({attachment})."),
        ("Jalankan `amanah verify` atas bundel ekspor ledger (`amanah export`) untuk memeriksa seluruh log, "
         "checkpoint, dan saldo sampai checkpoint ini.",
         "Run `amanah verify` on an exported ledger bundle (`amanah export`) to check the whole log, its "
         "checkpoints and balances up to this checkpoint."),
    ]
    for number_, (indonesian, english) in enumerate(steps, 1):
        pdf.ensure(16)
        pdf.font(8.5, bold=True, color=BRAND)
        pdf.cell(6, 4.2, f"{number_}.")
        pdf.font(8.5)
        pdf.multi_cell(pdf.content_width - 6, 4.2, indonesian, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_x(pdf.l_margin + 6)
        pdf.font(8, color=MUTED)
        pdf.multi_cell(pdf.content_width - 6, 4, english, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.5)
    pdf.heading("Tanda tangan", "Signature", keep_with=45)
    pdf.meta([("Algoritma", "Algorithm", str(signature.get("algorithm", ""))),
              ("Kanonikalisasi", "Canonicalisation", str(signature.get("canonicalisation", ""))),
              ("Konteks", "Context", str(context))], label_width=52)
    pdf.mono_block("Kunci verifikasi", "Verifier key", str(signature.get("verifier_key", "")))
    pdf.mono_block("Nilai tanda tangan (base64)", "Signature value (base64)", str(signature.get("value", "")))


def statement_pdf(statement: dict) -> bytes:
    """A company's impact statement as a bilingual A4 PDF (see the module docstring)."""
    company = statement.get("company") or {}
    legal_name = str(company.get("legal_name") or company.get("organisation") or "")
    period = str(statement.get("period", ""))
    pdf = _Pdf(f"Laporan Dampak / Impact Statement · {legal_name} · {period}", str(statement.get("ledger", "")))
    pdf.metadata(f"Laporan Dampak / Impact Statement {legal_name} {period}", "Amanah impact statement")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.banner("AMANAH · LEDGER CSR TERVERIFIKASI / VERIFIABLE CSR LEDGER", "Laporan Dampak / Impact Statement",
               "Dana CSR untuk iuran BPJS Ketenagakerjaan pekerja informal di Jakarta Utara, melalui Baznas\n"
               "CSR money for informal workers' BPJS Ketenagakerjaan premiums in North Jakarta, through Baznas")

    pdf.font(15, bold=True)
    pdf.multi_cell(pdf.content_width, 7, legal_name, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.meta([("ID organisasi", "Organisation ID", str(company.get("organisation", ""))),
              ("Periode", "Period", f"{period} ({statement.get('from', '')} – {statement.get('to', '')})"),
              ("Dibuat", "Generated", str(statement.get("generated_at", ""))),
              ("Checkpoint", "Checkpoint", f"{count((statement.get('checkpoint') or {}).get('tree_size', 0))} entri / "
                                           "entries")], label_width=46)
    pdf.ln(4)

    claims = statement.get("claims_paid") or {}
    jkm, jkk = ((claims.get("by_benefit") or {}).get(name) or {} for name in ("jkm", "jkk"))
    pdf.key_cards([
        (money(statement.get("received_rupiah", 0)), "Dana diterima Baznas", "Money received by Baznas", SERIES["received"]),
        (money(statement.get("premiums_funded_rupiah", 0)), "Iuran didanai", "Premiums funded", SERIES["premiums"]),
        (decimal(statement.get("full_year_equivalent_workers", "0.00")), "Setara pekerja setahun",
         "Full-year-equivalent workers", SERIES["worker_months"]),
        (count(statement.get("worker_months", 0)), "Pekerja-bulan", "Worker-months of coverage", SERIES["worker_months"]),
    ])

    pdf.heading("Angka utama", "Key figures", keep_with=60)
    figures = [
        ("Dana dijanjikan (janji awal)", "Money pledged (as first pledged)", money(statement.get("pledged_rupiah", 0))),
        ("Janji setelah perubahan", "Pledge after changes", money(statement.get("pledged_current_rupiah", 0))),
        ("Pemenuhan janji awal", "Fulfilment of the first pledge", _percent(statement.get("pledge_fulfilment_percent"))),
        ("Dana diterima Baznas", "Money received by Baznas", money(statement.get("received_rupiah", 0))),
        ("Janji belum dipenuhi", "Pledge outstanding", money(statement.get("pledge_outstanding_rupiah", 0))),
        ("Hak amil Baznas", "Baznas amil share", money(statement.get("amil_rupiah", 0))),
        ("Disalurkan ke BPJS", "Disbursed to BPJS", money(statement.get("disbursed_rupiah", 0))),
        ("Saldo terikat belum terpakai", "Unspent restricted balance held", money(statement.get("unspent_held_rupiah", 0))),
        ("Iuran didanai", "Premiums funded", money(statement.get("premiums_funded_rupiah", 0))),
        ("Iuran dikembalikan (setelah kematian)", "Premiums refunded (after a death)",
         money(statement.get("premiums_refunded_rupiah", 0))),
        ("Pekerja-bulan", "Worker-months of coverage", count(statement.get("worker_months", 0))),
        ("Pekerja setara setahun penuh", "Full-year-equivalent workers",
         f"{decimal(statement.get('full_year_equivalent_workers', '0.00'))} / "
         f"{decimal(statement.get('programme_full_year_equivalent_workers', '0.00'))}"),
        ("Pekerja dijangkau (tumpang tindih)", "Distinct workers reached (overlapping)",
         count(statement.get("distinct_workers_reached_overlapping", 0))),
        ("JKM dibayar ke ahli waris", "JKM paid to heirs", _claim_line(jkm)),
        ("JKK dibayar ke pekerja", "JKK paid to the worker", _claim_line(jkk)),
    ]
    for index, (indonesian, english, value) in enumerate(figures):
        pdf.ensure(6.2)
        y = pdf.get_y()
        if index % 2 == 0:
            pdf.set_fill_color(246, 248, 249)
            pdf.rect(pdf.l_margin, y, pdf.content_width, 6.2, style="F")
        pdf.set_x(pdf.l_margin + 2)
        pdf.bilingual(pdf.content_width - 52, 6.2, indonesian, english, size=9)
        pdf.font(9.5, bold=True)
        pdf.cell(48, 6.2, value, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.5)
    pdf.paragraph("Iuran didanai adalah bagian dana perusahaan ini dalam iuran yang dibayar. Pekerja-bulan dihitung "
                  "untuk iuran yang didanai terutama oleh perusahaan ini; pekerja setara setahun penuh = pekerja-bulan / "
                  "12 (dua desimal, dibagi antarperusahaan sehingga jumlahnya tepat sama dengan angka program, angka "
                  "kedua). Pekerja berbeda dijangkau tumpang tindih antarperusahaan dan tidak boleh dijumlahkan. / "
                  "Premiums funded is this company's share of the premiums paid. Worker-months count the premiums this "
                  "company was the main funder of; full-year-equivalent workers = worker-months / 12 (two decimals, "
                  "split between companies so that they add up exactly to the programme's figure, the second number). "
                  "Distinct workers reached overlap between companies and must not be added up.", size=7.5,
                  color=MUTED, height=3.6)
    _pledge_changes(pdf, statement.get("pledge_changes") or [])

    for key, indonesian, english, first in (
            ("by_category", "Per kategori pekerja", "By worker category", ("Kategori", "Category")),
            ("by_kelurahan", "Per kelurahan", "By kelurahan (urban village)", ("Kelurahan", "Urban village"))):
        groups = statement.get(key) or {}
        pdf.heading(indonesian, english, keep_with=25)
        if not groups:
            pdf.paragraph("Tidak ada. / None.", color=MUTED)
            continue
        rows = []
        for name, values in groups.items():
            label = " / ".join(CATEGORIES[name]) if key == "by_category" and name in CATEGORIES else str(name)
            rows.append([label, count(values.get("worker_months", 0)), money(values.get("premiums_funded_rupiah", 0))])
        pdf.table([first, ("Pekerja-bulan", "Worker-months"), ("Iuran didanai", "Premiums funded")], rows,
                  widths=(2.2, 1, 1.2), aligns=("LEFT", "RIGHT", "RIGHT"))

    pdf.heading("Manfaat dibayar", "Benefits paid", keep_with=30)
    pdf.paragraph("Dibayar BPJS Ketenagakerjaan dari dana jaminannya (bukan dari dana CSR) untuk kejadian pada bulan yang "
                  "iurannya didanai perusahaan ini. JKM (kematian) dibayar kepada ahli waris; JKK (kecelakaan kerja) "
                  "kepada pekerja, atau ahli warisnya bila fatal. Keduanya tidak dijumlahkan.", size=8.5)
    pdf.paragraph("Paid by BPJS Ketenagakerjaan from its insurance fund (not from the CSR money) for incidents in months "
                  "whose premiums this company funded. JKM (death) is paid to the heirs; JKK (work accident) to the "
                  "worker, or the heirs when fatal. The two are not added together.", size=8, color=MUTED)
    pdf.ln(1.5)
    pdf.table([("Manfaat", "Benefit"), ("Dibayar kepada", "Paid to"), ("Jumlah klaim", "Claims"),
               ("Setiap pembayaran", "Each payment")],
              [[" / ".join(BENEFITS["jkm"]), "ahli waris / heirs", count(jkm.get("count", 0)), _amounts(jkm)],
               [" / ".join(BENEFITS["jkk"]), "pekerja / worker", count(jkk.get("count", 0)), _amounts(jkk)]],
              widths=(2.6, 1.1, 0.7, 1.8), aligns=("LEFT", "LEFT", "RIGHT", "RIGHT"))
    pdf.meta([("Entri ledger klaim", "Claim ledger entries", _ranges([[i, i] for i in claims.get("entries", [])])),
              ("Entri dasar laporan", "Entries this rests on", _ranges(statement.get("entries") or []))],
             label_width=62)

    months = statement.get("by_month") or []
    pdf.heading("Per bulan", "By month", keep_with=3 * 34)
    if months:
        labels = [_month_label(str(month.get("month", ""))) for month in months]
        pdf.bar_panel("Dana diterima Baznas", "Money received by Baznas", labels,
                      [int(month.get("received_rupiah", 0)) for month in months], SERIES["received"], money)
        pdf.bar_panel("Iuran didanai", "Premiums funded", labels,
                      [int(month.get("premiums_funded_rupiah", 0)) for month in months], SERIES["premiums"], money)
        pdf.bar_panel("Cakupan: pekerja-bulan", "Coverage: worker-months", labels,
                      [int(month.get("worker_months", 0)) for month in months], SERIES["worker_months"], count)
        pdf.table([("Bulan", "Month"), ("Dana diterima", "Money received"), ("Iuran didanai", "Premiums funded"),
                   ("Pekerja-bulan", "Worker-months")],
                  [[str(month.get("month", "")), money(month.get("received_rupiah", 0)),
                    money(month.get("premiums_funded_rupiah", 0)), count(month.get("worker_months", 0))]
                   for month in months], widths=(1, 1.3, 1.3, 1), aligns=("LEFT", "RIGHT", "RIGHT", "RIGHT"), size=7.5,
                  padding=(0.6, 1.8), line_height=3.8)
    else:
        pdf.paragraph("Tidak ada data. / No data.", color=MUTED)

    _verification(pdf, statement, "impact-statement.json")
    return _finish(pdf, statement, "impact-statement.json", "Signed impact statement (JSON)")


def decimal(text: object) -> str:
    """A decimal string ("737.42") as Indonesian writes it ("737,42")."""
    whole, _, fraction = str(text).partition(".")
    return f"{count(int(whole or 0))},{fraction or '00'}"


def _percent(value: object) -> str:
    return "–" if value is None else f"{value}%"


def _amounts(item: dict) -> str:
    amounts = item.get("amounts_rupiah") or []
    return " + ".join(money(amount) for amount in amounts) if amounts else "–"


def _claim_line(item: dict) -> str:
    return f"{count(item.get('count', 0))} · {money(item.get('total_rupiah', 0))}"


def _pledge_changes(pdf: _Pdf, changes: list[dict]) -> None:
    """Every amendment or cancellation of the pledge, with its date and reason: fulfilment is
    measured against the pledge as first made."""
    if not changes:
        return
    pdf.heading("Perubahan janji dana", "Pledge changes", keep_with=20)
    pdf.table([("Tanggal", "Date"), ("Perubahan", "Change"), ("Dari", "From"), ("Menjadi", "To"),
               ("Alasan", "Reason")],
              [[str(change.get("on", "")), "diubah / amended" if change.get("kind") == "amended" else "dibatalkan / cancelled",
                money(change.get("previous_rupiah", 0)), money(change.get("amount_rupiah", 0)),
                str(change.get("reason", ""))] for change in changes],
              widths=(1, 1.3, 1.2, 1.2, 2.2), aligns=("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"))


def awards_pdf(award_list: dict) -> bytes:
    """The year's award list as a printable, bilingual A4 PDF."""
    year = str(award_list.get("year", ""))
    awarded = award_list.get("awarded") or []
    separate = award_list.get("not_awarded") or []
    criteria = award_list.get("criteria") or {}
    pdf = _Pdf(f"Daftar Penerima Piagam Penghargaan / Award List {year}", str(award_list.get("ledger", "")))
    pdf.metadata(f"Daftar Penerima Piagam Penghargaan / Award List {year}", "Amanah award list")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.banner("AMANAH · PROGRAM CSR JAMINAN SOSIAL PEKERJA INFORMAL / INFORMAL WORKERS' SOCIAL SECURITY",
               f"Daftar Penerima Piagam Penghargaan / Award List {year}",
               "Perusahaan yang mendanai iuran BPJS Ketenagakerjaan pekerja informal melalui Baznas\n"
               "Companies that funded informal workers' BPJS Ketenagakerjaan premiums through Baznas")
    rank_by = RANK_BY.get(criteria.get("rank_by", "received_rupiah"), (criteria.get("rank_by", ""),) * 2)
    tiers = " · ".join(f"{tier.get('name')} ≥ {money(tier.get('min_received_rupiah', 0))}"
                       + (f", ≥ {count(tier['min_worker_months'])} pekerja-bulan/worker-months"
                          if tier.get("min_worker_months") else "") for tier in criteria.get("tiers") or [])
    pdf.meta([("Tahun", "Year", year),
              ("Perusahaan diundang", "Companies invited", count(award_list.get("companies_invited", 0))),
              ("Perusahaan berkontribusi", "Companies contributing", count(award_list.get("companies_contributing", 0))),
              ("Menerima piagam", "Awarded", count(len(awarded))),
              ("Dicatat terpisah", "Listed separately", count(len(separate))),
              ("Diundang, tidak berkontribusi", "Invited, did not contribute",
               count(len(award_list.get("invited_not_contributing") or []))),
              ("Peringkat menurut", "Ranked by", " / ".join(rank_by)),
              ("Kategori", "Tiers", tiers or "–"),
              ("Dibuat", "Generated", str(award_list.get("generated_at", "")))], label_width=94)
    exclusions = []
    if criteria.get("min_pledge_fulfilment_percent"):
        exclusions.append(f"janji dana terpenuhi kurang dari {criteria['min_pledge_fulfilment_percent']}% / pledge "
                          f"fulfilled less than {criteria['min_pledge_fulfilment_percent']}%")
    if criteria.get("exclude_open_reconciliation"):
        exclusions.append("butir rekonsiliasi terbuka / open reconciliation item")
    if criteria.get("excluded"):
        exclusions.append("dikecualikan oleh Pemerintah Kota / excluded by the city")
    if exclusions:
        pdf.ln(1)
        pdf.paragraph("Dicatat terpisah bila / Listed separately when: " + "; ".join(exclusions) + ".",
                      size=7.5, color=MUTED, height=3.6)
    _award_decision(pdf, award_list)

    pdf.heading("Penerima piagam", "Awarded companies", keep_with=25)
    if awarded:
        pdf.table([("Peringkat", "Rank"), ("Perusahaan", "Company"), ("Kategori", "Tier"),
                   ("Dana diterima", "Money received"), ("Setara setahun", "Full-year equiv.")],
                  [[str(entry.get("rank", "")), f"{entry.get('legal_name', '')}\n{entry.get('company', '')}",
                    str(entry.get("tier") or "–"), money(entry.get("received_rupiah", 0)),
                    decimal(entry.get("full_year_equivalent_workers", "0.00"))] for entry in awarded],
                  widths=(1.05, 3.0, 0.95, 1.55, 0.9), aligns=("CENTER", "LEFT", "CENTER", "RIGHT", "RIGHT"))
    else:
        pdf.paragraph("Tidak ada. / None.", color=MUTED)

    pdf.heading("Dicatat terpisah (tidak menerima piagam)", "Listed separately (not awarded)", keep_with=25)
    if separate:
        pdf.paragraph("Alasan dicetak sebagaimana ditandatangani di ledger. / Reasons are printed as signed in the "
                      "ledger.", size=7.5, color=MUTED, height=3.6)
        pdf.ln(1)
        pdf.table([("Perusahaan", "Company"), ("Dana diterima", "Money received"), ("Alasan", "Reasons")],
                  [[f"{entry.get('legal_name', '')}\n{entry.get('company', '')}", money(entry.get("received_rupiah", 0)),
                    "\n".join(entry.get("reasons") or [])] for entry in separate],
                  widths=(2.2, 1.3, 3.2), aligns=("LEFT", "RIGHT", "LEFT"))
    else:
        pdf.paragraph("Tidak ada. / None.", color=MUTED)

    absent = award_list.get("invited_not_contributing") or []
    pdf.heading("Diundang, tidak berkontribusi", "Invited, did not contribute", keep_with=25)
    if absent:
        pdf.table([("Perusahaan", "Company"), ("Diundang", "Invited on")],
                  [[f"{entry.get('legal_name', '')}\n{entry.get('company', '')}", str(entry.get("invited_on", ""))]
                   for entry in absent], widths=(4.2, 1.5), aligns=("LEFT", "LEFT"))
    else:
        pdf.paragraph("Tidak ada. / None.", color=MUTED)

    _verification(pdf, award_list, "award-list.json")
    return _finish(pdf, award_list, "award-list.json", "Signed award list (JSON)")
