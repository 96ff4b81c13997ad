"""Small server-side SVG charts: no script is needed to see them."""

from __future__ import annotations

from html import escape


def bar_chart(points: list[tuple[str, int]], title: str, width: int = 640, height: int = 220,
              colour: str = "#1f6f50", format_value=lambda value: f"{value:,}") -> str:
    """Vertical bars with month labels; values are whole numbers."""
    if not points:
        return ""
    top = max(value for _, value in points) or 1
    gap, left, bottom = 6, 8, 28
    bar = (width - left * 2) / len(points) - gap
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" class="chart">',
             f"<title>{escape(title)}</title>"]
    for position, (label, value) in enumerate(points):
        bar_height = (height - bottom - 24) * value / top
        x = left + position * (bar + gap)
        y = height - bottom - bar_height
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{bar_height:.1f}" fill="{colour}">'
                     f"<title>{escape(label)}: {escape(format_value(value))}</title></rect>")
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 10}" text-anchor="middle" font-size="11">'
                     f"{escape(label)}</text>")
    parts.append(f'<text x="{width - left}" y="14" text-anchor="end" font-size="11">max {escape(format_value(top))}'
                 "</text></svg>")
    return "".join(parts)


LABEL_CHARACTERS = 15  # what fits on one line of a box at the label's size


def wrap(text: str, width: int = LABEL_CHARACTERS) -> list[str]:
    """Words on lines of at most `width` characters (a longer word stands alone)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def flow_diagram(stages: list[tuple[str, str]], width: int = 640) -> str:
    """Boxes joined by arrows: companies -> Baznas -> BPJS -> workers -> claims. Labels wrap
    inside their box and the boxes grow to hold the longest label, so no text leaves its shape."""
    box, gap = 112, (width - 112 * len(stages)) / max(len(stages) - 1, 1)
    labels = [wrap(label) for label, _ in stages]
    lines = max(len(label) for label in labels)
    box_height = 24 + 14 * lines + 20
    height = box_height + 20
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="money flow" class="flow flow-row">',
             '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="6" refY="3" orient="auto">'
             '<path d="M0,0 L6,3 L0,6 z" fill="#555"/></marker></defs>']
    for position, ((_, value), label) in enumerate(zip(stages, labels, strict=True)):
        x = position * (box + gap)
        parts.append(f'<rect x="{x:.1f}" y="10" width="{box}" height="{box_height}" rx="8" fill="#eef6f1" '
                     'stroke="#1f6f50"/>')
        for number, line in enumerate(label):
            parts.append(f'<text x="{x + box / 2:.1f}" y="{32 + 14 * number}" text-anchor="middle" font-size="11" '
                         f'font-weight="bold">{escape(line)}</text>')
        parts.append(f'<text x="{x + box / 2:.1f}" y="{32 + 14 * lines + 8}" text-anchor="middle" '
                     f'font-size="10.5">{escape(value)}</text>')
        if position < len(stages) - 1:
            middle = 10 + box_height / 2
            parts.append(f'<line x1="{x + box:.1f}" y1="{middle:.1f}" x2="{x + box + gap - 4:.1f}" y2="{middle:.1f}" '
                         'stroke="#555" stroke-width="2" marker-end="url(#arrow)"/>')
    parts.append("</svg>")
    return "".join(parts)


def flow_column(stages: list[tuple[str, str]], width: int = 320) -> str:
    """The same flow top to bottom, for a phone: each box wide enough for its label on one or
    two lines, the figure beneath, an arrow down to the next."""
    box = width - 20
    labels = [wrap(label, 34) for label, _ in stages]
    heights = [20 + 16 * len(label) + 18 for label in labels]
    height = sum(heights) + 26 * (len(stages) - 1) + 10
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="money flow" class="flow flow-column">',
             '<defs><marker id="arrow-down" markerWidth="8" markerHeight="8" refX="6" refY="3" orient="auto">'
             '<path d="M0,0 L6,3 L0,6 z" fill="#555"/></marker></defs>']
    y = 5
    for position, ((_, value), label, box_height) in enumerate(zip(stages, labels, heights, strict=True)):
        parts.append(f'<rect x="10" y="{y}" width="{box}" height="{box_height}" rx="8" fill="#eef6f1" '
                     'stroke="#1f6f50"/>')
        for number, line in enumerate(label):
            parts.append(f'<text x="{width / 2:.1f}" y="{y + 20 + 16 * number}" text-anchor="middle" '
                         f'font-size="13" font-weight="bold">{escape(line)}</text>')
        parts.append(f'<text x="{width / 2:.1f}" y="{y + 20 + 16 * len(label) + 6}" text-anchor="middle" '
                     f'font-size="13">{escape(value)}</text>')
        y += box_height
        if position < len(stages) - 1:
            parts.append(f'<line x1="{width / 2:.1f}" y1="{y}" x2="{width / 2:.1f}" y2="{y + 20}" stroke="#555" '
                         'stroke-width="2" marker-end="url(#arrow-down)"/>')
            y += 26
    parts.append("</svg>")
    return "".join(parts)
