"""Line charts as server-rendered SVG (no JavaScript). Every chart is shown beside a data table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from django.utils.safestring import SafeString, mark_safe

# Seven distinguishable series: colour, dash pattern and marker shape all differ, so a line can
# be told apart without colour vision. Colours have at least 3:1 contrast on white (WCAG 1.4.11).
STYLES = [
    ("#0b5cad", "", "circle"),
    ("#a4161a", "6 3", "square"),
    ("#1e6b34", "2 3", "triangle"),
    ("#6a3d9a", "8 3 2 3", "diamond"),
    ("#8a4b00", "4 4", "circle"),
    ("#005f66", "1 2", "square"),
    ("#4a5360", "10 4", "triangle"),
]


@dataclass
class Series:
    name: str
    points: list[tuple[date, float]]


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    if shape == "triangle":
        return (f'<polygon points="{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y + 3.5:.1f} '
                f'{x - 4.5:.1f},{y + 3.5:.1f}" fill="{colour}"/>')
    if shape == "diamond":
        return (f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} '
                f'{x - 5:.1f},{y:.1f}" fill="{colour}"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'


def line_chart(series: list[Series], *, title: str, y_min: float, y_max: float,
               y_step: float, chart_id: str, width: int = 640, height: int = 260,
               bands: list[tuple[float, str]] | None = None) -> SafeString:
    """An accessible SVG line chart: role="img", a title and a description naming the table."""
    left, right, top, bottom = 44, 12, 12, 34
    if len(series) > 1:
        bottom += 22 * ((len(series) + 2) // 3)
    plot_w, plot_h = width - left - right, height - top - bottom
    days = sorted({d for s in series for d, _ in s.points})
    first, last = (days[0], days[-1]) if days else (date.today(), date.today())
    span = max((last - first).days, 1)

    def px(d: date) -> float:
        return left + plot_w * ((d - first).days / span if days and len(days) > 1 else 0.5)

    def py(v: float) -> float:
        return top + plot_h * (1 - (v - y_min) / (y_max - y_min))

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">Line chart; the same figures are in the table that follows.</desc>',
    ]
    for lower, label in bands or []:
        y = py(lower)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                   'stroke="#c9d1db" stroke-dasharray="3 3"/>')
        out.append(f'<text x="{left + plot_w - 2}" y="{y - 3:.1f}" text-anchor="end" '
                   f'font-size="11" fill="#4a5360">{escape(label)}</text>')
    v = y_min
    while v <= y_max + 1e-9:
        y = py(v)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eef1f4"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
                   f'fill="#1b1f24">{v:g}</text>')
        v += y_step
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#1b1f24"/>')
    out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
               'stroke="#1b1f24"/>')
    if days:
        for d, anchor in ((first, "start"), (last, "end")):
            out.append(f'<text x="{px(d):.1f}" y="{top + plot_h + 16}" text-anchor="{anchor}" '
                       f'font-size="12" fill="#1b1f24">{d:%d %b %Y}</text>')
    for n, s in enumerate(series):
        colour, dash, shape = STYLES[n % len(STYLES)]
        pts = [(px(d), py(val)) for d, val in s.points]
        if len(pts) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                       f'stroke-width="2.5"{dash_attr}/>')
        out.extend(_marker(shape, x, y, colour) for x, y in pts)
        if len(series) > 1:
            lx = left + (n % 3) * (plot_w / 3)
            ly = top + plot_h + 36 + 22 * (n // 3)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<line x1="{lx:.1f}" x2="{lx + 26:.1f}" y1="{ly:.1f}" y2="{ly:.1f}" '
                       f'stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
            out.append(_marker(shape, lx + 13, ly, colour))
            out.append(f'<text x="{lx + 32:.1f}" y="{ly + 4:.1f}" font-size="12" '
                       f'fill="#1b1f24">{escape(s.name)}</text>')
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text above is escaped
