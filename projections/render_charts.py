"""Charts on the PDF page: headline cards and bar panels."""

from __future__ import annotations

import math
from collections.abc import Callable

from fpdf.enums import Align

from projections.render_page import BRAND_LIGHT, INK, MUTED, Page, RULE


class Pdf(Page):
    """The page with its charts: what every PDF of the project draws on."""

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


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5, 5 x 10^k (whole numbers only) that is >= value; 1 for 0."""
    if value <= 1:
        return 1
    power = 10 ** int(math.floor(math.log10(value)))
    for candidate in (power, 2 * power, 5 * power // 2, 5 * power, 10 * power):
        if candidate >= value and candidate == int(candidate):
            return int(candidate)
    return 10 * power  # pragma: no cover - the last candidate always fits
