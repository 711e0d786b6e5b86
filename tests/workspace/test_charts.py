"""The shared SVG charts: accessible, no inline styles, band and marks where asked; heat strips
legible on a phone."""

from __future__ import annotations

import re

from rapport.core import charts
from rapport.core.charts import Band, Line, Mark, session_chart


def test_a_session_chart_has_a_band_marks_and_an_accessible_name():
    svg = str(session_chart(
        [Line("Client <rating>", [(1, 70), (2, 80), (3, 30)])], title="Relationship & co",
        chart_id="c1", y_min=0, y_max=100, y_step=20,
        band=Band("Expected range", [(1, 60, 80), (2, 55, 75), (3, 50, 70)]),
        marks=[Mark(3, "Rupture", "rupture")],
    ))
    assert svg.startswith('<svg class="chart chart-sessions"') and 'role="img"' in svg
    assert 'aria-labelledby="c1-title c1-desc"' in svg
    assert "<title id=\"c1-title\">Relationship &amp; co</title>" in svg
    assert "Client &lt;rating&gt;" in svg  # every text escaped
    assert svg.count('<polygon class="chart-band"') == 1
    assert 'class="chart-mark chart-mark-rupture"' in svg
    assert "style=" not in svg and "<script" not in svg


def test_values_outside_the_scale_stay_inside_the_plot():
    svg = str(session_chart([Line("x", [(1, -5), (2, 500)])], title="t", chart_id="c",
                            y_min=0, y_max=10, y_step=2))
    ys = [float(v) for v in re.findall(r'cy="([\d.]+)"', svg)]
    assert ys and all(0 <= y <= 260 for y in ys)


def test_one_session_is_drawn_in_the_middle():
    svg = str(session_chart([Line("x", [(4, 5)])], title="t", chart_id="c",
                            y_min=0, y_max=10, y_step=2))
    assert "<circle" in svg and "<polyline" not in svg


# ---- heat strips ------------------------------------------------------------------------------

def _contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_every_heat_cell_prints_its_value_legibly_on_its_colour():
    for value in range(11):
        fill, ink, text = charts._heat_cell(value, 0, 10)
        assert text == str(value)
        assert _contrast(fill, ink) >= 4.5, (value, fill, ink)
    assert charts._heat_cell(None, 0, 10)[2] == "–"
    assert charts._heat_cell(float("nan"), 0, 10)[2] == "–"
    assert charts._heat_cell(0, 0, 10)[0] != charts._heat_cell(10, 0, 10)[0]


def test_a_heat_strip_has_a_cell_per_value_escaped_names_and_an_accessible_name():
    svg = str(charts.heat_strip([charts.HeatRow("Trust <b>", [3, None, 9.5])], ["1", "2", "3"],
                                title="Parts & co", chart_id="h", description="d"))
    assert 'role="img"' in svg and 'aria-labelledby="h-title h-desc"' in svg
    assert "Trust &lt;b&gt;" in svg and "Parts &amp; co" in svg
    assert svg.count('rx="3"') == 3  # the three cells (the key's squares have no rounding)
    assert ">3</text>" in svg and ">9.5</text>" in svg and ">–</text>" in svg
    assert "style=" not in svg


def test_on_a_phone_the_strip_keeps_the_latest_sessions_at_full_size():
    rows = [charts.HeatRow(name, list(range(12))) for name in ("Trust", "Empathy")]
    both = str(charts.heat_strips(rows, [str(n) for n in range(1, 13)], title="t", chart_id="h",
                                  description="d", region_label="r", label_width=100))
    wide, narrow = re.findall(r"<svg [^>]*>", both)
    assert 'id="h-sm-title"' in both
    width = int(re.search(r'width="(\d+)"', narrow).group(1))
    assert width <= 360  # drawn for a phone: never scaled down, so 12-13 px text stays 12-13 px
    narrow_svg = both[both.index('class="chart-sm"'):]
    assert narrow_svg.count('rx="3"') == 2 * 7  # two rows, the latest seven sessions
    assert ">12</text>" in narrow_svg and ">1</text>" not in narrow_svg  # sessions 6 to 12
    assert "The latest 7 sessions" in both
