"""The PDF page: A4 with the shipped Unicode fonts, running header, page numbers, headings,
bilingual labels, tables and monospaced blocks; colours and labels shared by every PDF."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, TableCellFillMode, VAlign, XPos, YPos
from fpdf.fonts import FontFace

from projections.formatting import number
from projections.render_text import _LATIN1_PRINTABLE, printable, rupiah

FONT_DIR = Path(__file__).with_name("fonts")
FONT_FILES = {("sans", ""): "DejaVuSans.ttf", ("sans", "B"): "DejaVuSans-Bold.ttf", ("mono", ""): "DejaVuSansMono.ttf"}

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


def decimal(text: object) -> str:
    """A decimal string ("737.42") as Indonesian writes it ("737,42")."""
    whole, _, fraction = str(text).partition(".")
    return f"{count(int(whole or 0))},{fraction or '00'}"


class Page(FPDF):
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


def _chunks(text: str, size: int) -> list[str]:
    return [text[start:start + size] for start in range(0, len(text), size)] or [""]
