"""The shared SVG charts: accessible, no inline styles, band and marks where asked."""

from __future__ import annotations

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
    ys = [float(v) for v in __import__("re").findall(r'cy="([\d.]+)"', svg)]
    assert ys and all(0 <= y <= 260 for y in ys)


def test_one_session_is_drawn_in_the_middle():
    svg = str(session_chart([Line("x", [(4, 5)])], title="t", chart_id="c",
                            y_min=0, y_max=10, y_step=2))
    assert "<circle" in svg and "<polyline" not in svg
