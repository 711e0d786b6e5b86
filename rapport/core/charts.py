"""Line charts as server-rendered SVG (no JavaScript). Every chart is shown beside a data table.

`line_chart` plots values by date (the client portal); `session_chart` plots them by session
number, with an optional shaded band (e.g. the expected trajectory) and marked sessions (e.g. a
rupture and its repair) for the therapist's episode page. Only presentation attributes are used
(the Content-Security-Policy forbids inline styles); CSS classes let the stylesheet adjust them.

This module computes the geometry; the SVG itself is drawn by the templates in
`templates/charts/`, autoescaped like every other page, so no text reaches the markup unescaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.template.loader import render_to_string
from django.utils import formats
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

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


def _f(value: float) -> str:
    return f"{value:.1f}"


def _marker(shape: str, x: float, y: float, colour: str) -> dict[str, str]:
    """A series' marker at (x, y); see templates/charts/_marker.svg."""
    m = {"shape": shape, "colour": colour, "x": _f(x), "y": _f(y), "points": ""}
    if shape == "square":
        m.update(x=_f(x - 3.5), y=_f(y - 3.5))
    elif shape == "triangle":
        m["points"] = f"{_f(x)},{_f(y - 4.5)} {_f(x + 4.5)},{_f(y + 3.5)} {_f(x - 4.5)},{_f(y + 3.5)}"
    elif shape == "diamond":
        m["points"] = f"{_f(x)},{_f(y - 5)} {_f(x + 5)},{_f(y)} {_f(x)},{_f(y + 5)} {_f(x - 5)},{_f(y)}"
    return m


def _series(n: int, pts: list[tuple[float, float]]) -> dict[str, Any]:
    """The n-th series: a line in its style (when it has two points or more), and its markers."""
    colour, dash, shape = STYLES[n % len(STYLES)]
    return {"path": " ".join(f"{_f(x)},{_f(y)}" for x, y in pts) if len(pts) > 1 else "",
            "colour": colour, "dash": dash, "markers": [_marker(shape, x, y, colour) for x, y in pts]}


def _legend_line(n: int, x: float, y: float, name: str) -> dict[str, Any]:
    colour, dash, shape = STYLES[n % len(STYLES)]
    return {"kind": "line", "x": _f(x), "x_end": _f(x + 26), "y": _f(y), "colour": colour,
            "dash": dash, "marker": _marker(shape, x + 13, y, colour), "text_x": _f(x + 32),
            "text_y": _f(y + 4), "name": name}


def _grid(y_min: float, y_max: float, y_step: float, py) -> list[dict[str, str]]:
    grid, v = [], y_min
    while v <= y_max + 1e-9:
        grid.append({"y": _f(py(v)), "text_y": _f(py(v) + 4), "label": f"{v:g}"})
        v += y_step
    return grid


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

    legend = [_legend_line(n, left + (n % 3) * (plot_w / 3), top + plot_h + 36 + 22 * (n // 3), s.name)
              for n, s in enumerate(series)] if len(series) > 1 else []
    return render_to_string("charts/line_chart.svg", {
        "width": width, "height": height, "chart_id": chart_id, "title": title,
        "left": left, "right": left + plot_w, "top": top, "bottom": top + plot_h, "label_x": left - 6,
        "bands": [{"y": _f(py(lower)), "text_x": left + plot_w - 2, "text_y": _f(py(lower) - 3),
                   "label": label} for lower, label in bands or []],
        "grid": _grid(y_min, y_max, y_step, py),
        "dates": [{"x": _f(px(d)), "y": top + plot_h + 16, "anchor": anchor, "label": formats.date_format(d, "d M Y")}
                  for d, anchor in ((first, "start"), (last, "end"))] if days else [],
        "series": [_series(n, [(px(d), py(val)) for d, val in s.points]) for n, s in enumerate(series)],
        "legend": legend,
    })


# ---- charts by session number ------------------------------------------------------------------

# The band is light blue behind the lines, its edges darker (#d6e4f2, #6f8fb0: session_chart.svg).
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


def _session_legend(lines: list[Line], band: Band | None, marks: list[Mark]) -> list[tuple[str, Any, str]]:
    legend: list[tuple[str, Any, str]] = [("line", n, line.name) for n, line in enumerate(lines)]
    if band is not None and band.points:
        legend.append(("band", 0, band.name))
    for m in {m.kind: m for m in marks}.values():  # one entry per kind, with its label
        legend.append(("mark", m.kind, m.label))
    return legend


def _legend_entry(kind: str, n: Any, name: str, x: float, y: float) -> dict[str, Any]:
    if kind == "line":
        return _legend_line(n, x, y, name)
    entry = {"kind": kind, "name": name, "x": _f(x), "text_x": _f(x + 32), "text_y": _f(y + 4)}
    if kind == "band":
        entry["box_y"] = _f(y - 7)
    else:
        entry.update(colour=MARKER_COLOURS.get(str(n), "#4a5360"), mid_x=_f(x + 13),
                     y_top=_f(y - 8), y_bottom=_f(y + 8))
    return entry


def _mark(m: Mark, x: float, left: float, plot_w: float, top: int) -> dict[str, Any]:
    anchor = "end" if x > left + plot_w * 0.8 else "start"
    return {"kind": m.kind, "label": m.label, "colour": MARKER_COLOURS.get(m.kind, "#4a5360"),
            "x": _f(x), "y1": top - 4, "anchor": anchor, "text_x": _f(x + (-4 if anchor == "end" else 4)),
            # a repair soon after a rupture stays readable below it
            "text_y": top + 6 if m.kind == "rupture" else top + 20}


def session_chart(lines: list[Line], *, title: str, chart_id: str, y_min: float, y_max: float,
                  y_step: float, description: str = "", band: Band | None = None,
                  marks: list[Mark] | None = None, width: int = 640, height: int = 260,
                  legend_columns: int = 2, sessions: tuple[int, int] | None = None) -> SafeString:
    """An accessible SVG line chart by session number: role="img", title and description.

    Values outside y_min..y_max are clipped to the edge (the table beside it has the figures).
    `sessions` (first, last) fixes the x axis, so that charts of one episode line up.
    """
    marks = marks or []
    numbers = sorted({s for line in lines for s, _ in line.points}
                     | {s for s, _, _ in (band.points if band else [])} | {m.session for m in marks})
    first, last = (numbers[0], numbers[-1]) if numbers else (1, 1)
    if sessions is not None:
        first, last = min(first, sessions[0]), max(last, sessions[1])
    legend = _session_legend(lines, band, marks)
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

    shaded = None
    if band is not None and len(band.points) > 1:
        upper = [f"{_f(px(s))},{_f(py(hi))}" for s, _, hi in band.points]
        lower = [f"{_f(px(s))},{_f(py(lo))}" for s, lo, _ in reversed(band.points)]
        shaded = {"points": " ".join(upper + lower),
                  "edges": [" ".join(upper), " ".join(reversed(lower))]}
    step = max(1, -(-(last - first + 1) // 12))  # at most about 12 session labels
    return render_to_string("charts/session_chart.svg", {
        "width": width, "height": height, "chart_id": chart_id, "title": title,
        "description": description or "Line chart by session; the same figures are in the table beside it.",
        "left": left, "right": left + plot_w, "top": top, "bottom": top + plot_h, "label_x": left - 6,
        "grid": _grid(y_min, y_max, y_step, py), "band": shaded,
        "session_labels": [{"x": _f(px(s)), "y": top + plot_h + 16, "label": s}
                           for s in range(first, last + 1, step)],
        "axis_title": {"x": _f(left + plot_w / 2), "y": top + plot_h + 32},
        "marks": [_mark(m, px(m.session), left, plot_w, top) for m in marks],
        "series": [_series(n, [(px(s), py(val)) for s, val in line.points]) for n, line in enumerate(lines)],
        "legend": [_legend_entry(kind, n, name, left + (i % cols) * (plot_w / cols),
                                 top + plot_h + 50 + 22 * (i // cols))
                   for i, (kind, n, name) in enumerate(legend)] if rows else [],
    })


def pair(wide: SafeString, narrow: SafeString) -> SafeString:
    """A chart drawn for wide screens and again for phones; the stylesheet shows one. An SVG
    scales as a whole, so one drawing would have unreadably small text on a phone."""
    return render_to_string("charts/pair.html", {"wide": wide, "narrow": narrow})


# ---- heat strips: one row per part, one cell per session ----------------------------------------

# 0 to 10, low (red) to high (blue): ColorBrewer's RdYlBu, 11 classes (Brewer, colorbrewer2.org),
# which stays distinguishable for the common colour-vision deficiencies. Each cell also prints its
# value, so nothing depends on colour; the text colour keeps at least 4.5:1 on its cell.
HEAT = ["#a50026", "#d73027", "#f46d43", "#fdae61", "#fee090", "#ffffbf",
        "#e0f3f8", "#abd9e9", "#74add1", "#4575b4", "#313695"]
HEAT_LIGHT_TEXT = {0, 1, 9, 10}  # white text on these, near-black on the rest
MISSING = "#eef1f4"


@dataclass
class HeatRow:
    """One row of a heat strip: a name and a value (or None) per column."""

    name: str
    values: list[float | None]


def _heat_cell(value: float | None, low: float, high: float) -> tuple[str, str, str]:
    """(fill, text colour, text) of one cell."""
    if value is None or value != value:
        return MISSING, "#1b1f24", "–"
    share = (min(max(value, low), high) - low) / ((high - low) or 1)
    n = round(share * (len(HEAT) - 1))
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return HEAT[n], "#ffffff" if n in HEAT_LIGHT_TEXT else "#1b1f24", text


def heat_strip(rows: list[HeatRow], columns: list[str], *, title: str, chart_id: str,
               description: str, low: float = 0, high: float = 10, column_title: str = "Session",
               label_width: int = 150, cell: int = 34) -> SafeString:
    """An accessible SVG heat strip: rows (e.g. the seven parts of the relationship) by columns
    (sessions or dates), each cell coloured by its value and printing it. A column label with a
    space ("16 Oct") is written on two lines, so that it fits above its cell."""
    two_lines = any(" " in c for c in columns)
    top = 50 if two_lines else 36  # the column title and the column labels above the cells
    width = label_width + cell * len(columns) + 8
    key_y = top + cell * len(rows) + 22
    cells = []
    for r, row in enumerate(rows):
        for c, value in enumerate(row.values):
            fill, ink, text = _heat_cell(value, low, high)
            x, y = label_width + c * cell, top + r * cell
            cells.append({"x": x, "y": y, "size": cell - 2, "fill": fill, "ink": ink, "text": text,
                          "text_x": _f(x + (cell - 2) / 2), "text_y": _f(y + cell / 2 + 3)})
    key_cell = 22
    key = [{"x": label_width + n * key_cell, "fill": colour,
            "label": _f(low + (high - low) * n / (len(HEAT) - 1)).removesuffix(".0") if n in (0, 5, 10) else "",
            "text_x": _f(label_width + n * key_cell + key_cell / 2)} for n, colour in enumerate(HEAT)]
    return render_to_string("charts/heat_strip.svg", {
        "width": max(width, label_width + key_cell * len(HEAT) + 8), "height": key_y + 40,
        "chart_id": chart_id, "title": title, "description": description,
        "column_title": column_title, "column_title_x": label_width, "label_x": label_width - 8,
        "columns": [{"x": _f(label_width + c * cell + (cell - 2) / 2),
                     "lines": [(text, 30 + 14 * n) for n, text in enumerate(label.split(" ", 1))]}
                    for c, label in enumerate(columns)],
        "rows": [{"name": row.name, "y": _f(top + r * cell + cell / 2 + 4)} for r, row in enumerate(rows)],
        "cells": cells, "key": key, "key_y": key_y, "key_text_y": key_y + 30, "key_size": key_cell - 2,
        "key_label_x": label_width - 8, "key_label_y": _f(key_y + key_cell / 2 + 3),
    })


PHONE_COLUMNS = 7  # cells that fit beside the row names on a 360 px phone, text at full size


def heat_strips(rows: list[HeatRow], columns: list[str], *, title: str, chart_id: str,
                description: str, region_label: str, **kwargs: Any) -> SafeString:
    """The heat strip drawn for wide screens (every column, scrolling sideways when there are
    many) and for phones (the latest PHONE_COLUMNS): drawn at its own size, never shrunk, so its
    text stays legible; the stylesheet shows one of the two."""
    wide = heat_strip(rows, columns, title=title, chart_id=chart_id, description=description,
                      **kwargs)
    latest = columns[-PHONE_COLUMNS:]
    narrow_rows = [HeatRow(r.name, r.values[-PHONE_COLUMNS:]) for r in rows]
    narrow_title = title if len(latest) == len(columns) else _("%(title)s: the latest %(n)d") % {
        "title": title, "n": len(latest)}
    narrow = heat_strip(narrow_rows, latest, title=narrow_title, chart_id=f"{chart_id}-sm",
                        description=description, **kwargs)
    return render_to_string("charts/heat_pair.html", {
        "wide": wide, "narrow": narrow, "region_label": region_label,
        "shortened": len(latest) < len(columns), "latest": len(latest)})
