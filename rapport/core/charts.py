"""Line charts as server-rendered SVG (no JavaScript). Every chart is shown beside a data table.

`line_chart` plots values by date (the client portal); `session_chart` plots them by session
number, with an optional shaded band (e.g. the expected trajectory) and marked sessions (e.g. a
rupture and its repair) for the therapist's episode page. Only presentation attributes are used
(the Content-Security-Policy forbids inline styles); CSS classes let the stylesheet adjust them.
"""

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


def _line(out: list[str], n: int, pts: list[tuple[float, float]]) -> None:
    """Draw the n-th series: a line in its style, and its markers."""
    colour, dash, shape = STYLES[n % len(STYLES)]
    if len(pts) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                   f'stroke-width="2.5"{dash_attr}/>')
    out.extend(_marker(shape, x, y, colour) for x, y in pts)


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
        _line(out, n, [(px(d), py(val)) for d, val in s.points])
        colour, dash, shape = STYLES[n % len(STYLES)]
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


# ---- charts by session number ------------------------------------------------------------------

BAND_FILL = "#d6e4f2"  # light blue behind the lines; the band's edges are drawn darker
BAND_EDGE = "#6f8fb0"
MARKER_COLOURS = {"rupture": "#a4161a", "repair": "#1e6b34"}


@dataclass
class Line:
    """One series by session number: [(session, value), ...], sessions ascending."""

    name: str
    points: list[tuple[int, float]]


@dataclass
class Band:
    """A shaded band: [(session, low, high), ...], sessions ascending."""

    name: str
    points: list[tuple[int, float, float]]


@dataclass
class Mark:
    """A marked session: a vertical line with a short label ("rupture" or "repair" kind)."""

    session: int
    label: str
    kind: str = "rupture"


def _legend_line(x: float, y: float, colour: str, dash: str, shape: str, name: str) -> list[str]:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return [
        f'<line x1="{x:.1f}" x2="{x + 26:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" '
        f'stroke-width="2.5"{dash_attr}/>',
        _marker(shape, x + 13, y, colour),
        f'<text x="{x + 32:.1f}" y="{y + 4:.1f}" font-size="12" fill="#1b1f24">{escape(name)}</text>',
    ]


def session_chart(lines: list[Line], *, title: str, chart_id: str, y_min: float, y_max: float,
                  y_step: float, description: str = "", band: Band | None = None,
                  marks: list[Mark] | None = None, width: int = 640, height: int = 260,
                  legend_columns: int = 2, sessions: tuple[int, int] | None = None) -> SafeString:
    """An accessible SVG line chart by session number: role="img", title and description.

    Values outside y_min..y_max are clipped to the edge (the table beside it has the figures).
    `sessions` (first, last) fixes the x axis, so that charts of one episode line up.
    """
    marks = marks or []
    x_range = sessions
    sessions = sorted({s for line in lines for s, _ in line.points}
                      | {s for s, _, _ in (band.points if band else [])}
                      | {m.session for m in marks})
    first, last = (sessions[0], sessions[-1]) if sessions else (1, 1)
    if x_range is not None:
        first, last = min(first, x_range[0]), max(last, x_range[1])
    legend: list[tuple[str, int | str, str]] = [("line", n, line.name) for n, line in enumerate(lines)]
    if band is not None and band.points:
        legend.append(("band", 0, band.name))
    for m in {m.kind: m for m in marks}.values():  # one entry per kind, with its label
        legend.append(("mark", m.kind, m.label))
    cols = max(1, legend_columns)
    rows = (len(legend) + cols - 1) // cols if len(legend) > 1 or band or marks else 0
    left, right, top, bottom = 44, 14, 22 if marks else 12, 40 + 22 * rows
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max(last - first, 1)

    def px(session: float) -> float:
        return left + plot_w * ((session - first) / span if last > first else 0.5)

    def py(v: float) -> float:
        v = min(max(v, y_min), y_max)
        return top + plot_h * (1 - (v - y_min) / (y_max - y_min))

    desc = description or "Line chart by session; the same figures are in the table beside it."
    out = [
        f'<svg class="chart chart-sessions" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]
    v = y_min
    while v <= y_max + 1e-9:
        y = py(v)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eef1f4"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
                   f'fill="#1b1f24">{v:g}</text>')
        v += y_step
    if band is not None and len(band.points) > 1:
        upper = [f"{px(s):.1f},{py(hi):.1f}" for s, _, hi in band.points]
        lower = [f"{px(s):.1f},{py(lo):.1f}" for s, lo, _ in reversed(band.points)]
        out.append(f'<polygon class="chart-band" points="{" ".join(upper + lower)}" '
                   f'fill="{BAND_FILL}" stroke="none"/>')
        for edge in (upper, list(reversed(lower))):
            out.append(f'<polyline points="{" ".join(edge)}" fill="none" stroke="{BAND_EDGE}" '
                       'stroke-width="1" stroke-dasharray="4 3"/>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#1b1f24"/>')
    out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
               'stroke="#1b1f24"/>')
    step = max(1, -(-(last - first + 1) // 12))  # at most about 12 session labels
    for s in range(first, last + 1, step):
        out.append(f'<text x="{px(s):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                   f'font-size="12" fill="#1b1f24">{s}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h + 32}" text-anchor="middle" '
               'font-size="12" fill="#4a5360">Session</text>')
    for m in marks:
        colour = MARKER_COLOURS.get(m.kind, "#4a5360")
        x = px(m.session)
        out.append(f'<line class="chart-mark chart-mark-{escape(m.kind)}" x1="{x:.1f}" x2="{x:.1f}" '
                   f'y1="{top - 4}" y2="{top + plot_h}" stroke="{colour}" stroke-width="2" '
                   'stroke-dasharray="5 3"/>')
        anchor = "end" if x > left + plot_w * 0.8 else "start"
        dx = -4 if anchor == "end" else 4
        y = top + 6 if m.kind == "rupture" else top + 20  # a repair soon after stays readable
        out.append(f'<text x="{x + dx:.1f}" y="{y}" text-anchor="{anchor}" font-size="12" '
                   f'font-weight="600" fill="{colour}">{escape(m.label)}</text>')
    for n, line in enumerate(lines):
        _line(out, n, [(px(s), py(val)) for s, val in line.points])
    if rows:
        col_w = plot_w / cols
        for i, (kind, n, name) in enumerate(legend):
            lx = left + (i % cols) * col_w
            ly = top + plot_h + 50 + 22 * (i // cols)
            if kind == "line":
                out.extend(_legend_line(lx, ly, *STYLES[n % len(STYLES)], name))
            elif kind == "band":
                out.append(f'<rect x="{lx:.1f}" y="{ly - 7:.1f}" width="26" height="14" '
                           f'fill="{BAND_FILL}" stroke="{BAND_EDGE}" stroke-dasharray="4 3"/>')
                out.append(f'<text x="{lx + 32:.1f}" y="{ly + 4:.1f}" font-size="12" '
                           f'fill="#1b1f24">{escape(name)}</text>')
            else:
                colour = MARKER_COLOURS.get(str(n), "#4a5360")
                out.append(f'<line x1="{lx + 13:.1f}" x2="{lx + 13:.1f}" y1="{ly - 8:.1f}" '
                           f'y2="{ly + 8:.1f}" stroke="{colour}" stroke-width="2" '
                           'stroke-dasharray="5 3"/>')
                out.append(f'<text x="{lx + 32:.1f}" y="{ly + 4:.1f}" font-size="12" '
                           f'fill="#1b1f24">{escape(name)}</text>')
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text above is escaped
