"""The viewer's charts: the chart model (app.chronology.chart_series) scaled to inline SVG.

The series, colours, numbers, labels and order lines all come from the model, as the PDF
draws them; this module only turns positions (0..1) into SVG coordinates for the template.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.chronology.chart_series import BAR_COLOUR, ORDER_COLOUR, Chart

WIDTH, HEIGHT = 720.0, 230.0
LEFT, RIGHT, TOP, BOTTOM = 40.0, 12.0, 16.0, 30.0
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Circle:
    x: float
    y: float
    r: float
    fill: str
    ring: bool
    number: str  # empty when the chart has too many dots to number
    label: str


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float
    fill: str
    label: str


@dataclass(frozen=True)
class Rule:
    x: float
    label: Text


@dataclass(frozen=True)
class Svg:
    chart: Chart
    circles: list[Circle]
    boxes: list[Box]
    orders: list[Rule]
    x_ticks: list[Text]
    y_ticks: list[Text]
    order_colour: str = ORDER_COLOUR
    width: float = WIDTH
    height: float = HEIGHT
    plot_left: float = LEFT
    plot_top: float = TOP
    plot_width: float = PLOT_W
    plot_height: float = PLOT_H


def _x(position: float) -> float:
    return LEFT + position * PLOT_W


def _y(position: float) -> float:
    return TOP + (1 - position) * PLOT_H


def svg(chart: Chart) -> Svg:
    levels = len(chart.y_ticks) or 1
    radius = 5.5 if chart.numbered else 2.5
    circles = [
        Circle(
            _x(dot.position),
            _y((dot.level.level + 0.5) / levels),
            radius,
            dot.level.colour,
            dot.reported,
            str(dot.number) if chart.numbered else "",
            dot.label,
        )
        for dot in chart.dots
    ]
    boxes = [
        Box(
            _x(bar.position + chart.slot * 0.15),
            _y(bar.height),
            chart.slot * 0.7 * PLOT_W,
            bar.height * PLOT_H,
            BAR_COLOUR,
            bar.label,
        )
        for bar in chart.bars
        if bar.count
    ]
    orders = [
        Rule(
            _x(line.position),
            Text(
                _x(line.position) + (-4 if line.position > 0.6 else 4),
                TOP + 10,
                line.label,
                "end" if line.position > 0.6 else "start",
            ),
        )
        for line in chart.orders
    ]
    return Svg(
        chart=chart,
        circles=circles,
        boxes=boxes,
        orders=orders,
        x_ticks=[Text(_x(t.position), HEIGHT - BOTTOM + 16, t.text) for t in chart.x_ticks],
        y_ticks=[Text(LEFT - 6, _y(t.position) + 4, t.text, "end") for t in chart.y_ticks],
    )
