"""The PDF's charts: the chart model (app.chronology.chart_series) drawn as reportlab vectors.

The series, colours, labels and order lines come from the model; this module only scales
them to the page (sharp at any zoom, no image files).
"""

from __future__ import annotations

from typing import Literal

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.colors import Color

from app.chronology.chart_series import BAR_COLOUR, ORDER_COLOUR, Chart
from app.exports.fonts import Fonts

_LEFT, _BOTTOM, _TOP, _RIGHT = 30.0, 14.0, 10.0, 8.0
_GRID = colors.HexColor("#eeeeee")


def _rect(
    x: float, y: float, width: float, height: float, *, fill: Color | None, stroke: Color | None
) -> Rect:
    # Colours are set after construction: the reportlab stubs mistype Rect's keyword arguments.
    rect = Rect(x, y, width, height)
    rect.fillColor = fill
    rect.strokeColor = stroke
    return rect


Anchor = Literal["start", "middle", "end"]


def _text(
    x: float,
    y: float,
    text: str,
    fonts: Fonts,
    size: float,
    anchor: Anchor = "start",
    fill: Color = colors.black,
) -> String:
    return String(
        x, y, text, fontName=fonts.regular, fontSize=size, textAnchor=anchor, fillColor=fill
    )


def draw_chart(chart: Chart, width: float, height: float, fonts: Fonts) -> Drawing:
    drawing = Drawing(width, height)
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _BOTTOM - _TOP
    drawing.add(_rect(_LEFT, _BOTTOM, plot_w, plot_h, fill=None, stroke=colors.grey))
    if not chart.dots and not chart.bars:
        drawing.add(_text(width / 2, height / 2, chart.description, fonts, 9, anchor="middle"))
        return drawing
    for tick in chart.y_ticks:
        y = _BOTTOM + tick.position * plot_h
        drawing.add(Line(_LEFT, y, _LEFT + plot_w, y, strokeColor=_GRID))
        drawing.add(_text(_LEFT - 4, y - 2.5, tick.text, fonts, 7, anchor="end"))
    for tick in chart.x_ticks:
        x = _LEFT + tick.position * plot_w
        drawing.add(Line(x, _BOTTOM, x, _BOTTOM - 3, strokeColor=colors.grey))
        drawing.add(_text(x, _BOTTOM - 11, tick.text, fonts, 6.5, anchor="middle"))
    order = colors.HexColor(ORDER_COLOUR)
    for line in chart.orders:
        x = _LEFT + line.position * plot_w
        drawing.add(
            Line(x, _BOTTOM, x, _BOTTOM + plot_h, strokeColor=order, strokeDashArray=[2, 2])
        )
        right = line.position > 0.6  # the label reads away from the nearer edge
        label_x = x - 2 if right else x + 2
        anchor: Anchor = "end" if right else "start"
        drawing.add(_text(label_x, _BOTTOM + plot_h - 8, line.label, fonts, 6, anchor, order))
    radius = 3.4 if chart.numbered else 1.6
    for dot in chart.dots:
        x = _LEFT + dot.position * plot_w
        y = _BOTTOM + (dot.level.level + 0.5) / 6 * plot_h
        fill = colors.HexColor(dot.level.colour)
        drawing.add(Circle(x, y, radius, fillColor=fill, strokeColor=None))
        if dot.reported:
            drawing.add(
                Circle(
                    x, y, radius + 1.4, fillColor=None, strokeColor=colors.black, strokeWidth=0.6
                )
            )
        if chart.numbered:
            drawing.add(_text(x, y + radius + 1.5, str(dot.number), fonts, 5.5, anchor="middle"))
    bar = colors.HexColor(BAR_COLOUR)
    for item in chart.bars:
        if item.count:
            x = _LEFT + (item.position + chart.slot * 0.15) * plot_w
            drawing.add(
                _rect(
                    x,
                    _BOTTOM,
                    chart.slot * 0.7 * plot_w,
                    item.height * plot_h,
                    fill=bar,
                    stroke=None,
                )
            )
    return drawing
