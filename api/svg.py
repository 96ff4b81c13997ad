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


def flow_diagram(stages: list[tuple[str, str]], width: int = 640) -> str:
    """Boxes joined by arrows: companies -> Baznas -> BPJS -> workers -> claims."""
    box, gap = 112, (width - 112 * len(stages)) / max(len(stages) - 1, 1)
    parts = [f'<svg viewBox="0 0 {width} 110" role="img" aria-label="money flow" class="flow">',
             '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="6" refY="3" orient="auto">'
             '<path d="M0,0 L6,3 L0,6 z" fill="#555"/></marker></defs>']
    for position, (label, value) in enumerate(stages):
        x = position * (box + gap)
        parts.append(f'<rect x="{x:.1f}" y="20" width="{box}" height="70" rx="8" fill="#eef6f1" stroke="#1f6f50"/>')
        parts.append(f'<text x="{x + box / 2:.1f}" y="48" text-anchor="middle" font-size="12" font-weight="bold">'
                     f"{escape(label)}</text>")
        parts.append(f'<text x="{x + box / 2:.1f}" y="70" text-anchor="middle" font-size="11">{escape(value)}</text>')
        if position < len(stages) - 1:
            parts.append(f'<line x1="{x + box:.1f}" y1="55" x2="{x + box + gap - 4:.1f}" y2="55" stroke="#555" '
                         'stroke-width="2" marker-end="url(#arrow)"/>')
    parts.append("</svg>")
    return "".join(parts)
