"""The two charts of the PDF, as reportlab vector drawings (sharp at any zoom, no image files).

- Timeline: one dot per incident, placed by date and by its highest severity (DOMAIN.md's
  ordering, 1 contact ... 5 physical violence; incidents without one sit on the "-" row),
  ringed when reported to police, with the start of each order as a dashed line.
- Frequency: incidents per week (per month once the diary spans more than a year), so a rise
  in frequency is visible at a glance.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from math import ceil

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.colors import Color

from app.chronology.schemas import PeriodCount, Summary
from app.exports.fonts import Fonts

SEVERITY_COLOURS = {
    0: colors.HexColor("#9e9e9e"),
    1: colors.HexColor("#4f81bd"),
    2: colors.HexColor("#2e9e6b"),
    3: colors.HexColor("#e0a200"),
    4: colors.HexColor("#e0601b"),
    5: colors.HexColor("#b3001b"),
}
SEVERITY_LABELS = {0: "-", 1: "1", 2: "2", 3: "3", 4: "4", 5: "5"}
_LEFT, _BOTTOM, _TOP, _RIGHT = 30.0, 22.0, 10.0, 8.0
MAX_WEEKLY_BARS = 60
BAR_COLOUR = colors.HexColor("#4f81bd")


def _rect(
    x: float, y: float, width: float, height: float, *, fill: Color | None, stroke: Color | None
) -> Rect:
    # Colours are set after construction: the reportlab stubs mistype Rect's keyword arguments.
    rect = Rect(x, y, width, height)
    rect.fillColor = fill
    rect.strokeColor = stroke
    return rect


def _empty(width: float, height: float, fonts: Fonts) -> Drawing:
    drawing = Drawing(width, height)
    drawing.add(_rect(0, 0, width, height, fill=None, stroke=colors.lightgrey))
    drawing.add(
        String(
            width / 2,
            height / 2,
            "No incidents recorded.",
            fontName=fonts.regular,
            fontSize=9,
            textAnchor="middle",
        )
    )
    return drawing


def _day_number(moment: datetime | date) -> float:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return moment.timestamp() / 86400.0


def _month_ticks(first: date, last: date, count: int) -> list[date]:
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    step = max(1, ceil(months / count))
    ticks, year, month = [], first.year, first.month
    for index in range(0, months + 1, step):
        y, m = divmod(month - 1 + index, 12)
        ticks.append(date(year + y, m + 1, 1))
    return [t for t in ticks if first <= t <= last] or [first]


def timeline_chart(summary: Summary, width: float, height: float, fonts: Fonts) -> Drawing:
    entries = summary.timeline
    if not entries:
        return _empty(width, height, fonts)
    drawing = Drawing(width, height)
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _BOTTOM - _TOP
    start = _day_number(entries[0].occurred_at) - 1
    span = max(_day_number(entries[-1].occurred_at) + 1 - start, 1.0)

    def x_of(moment: datetime | date) -> float:
        return _LEFT + (_day_number(moment) - start) / span * plot_w

    def y_of(severity: int) -> float:
        return _BOTTOM + (severity + 0.5) / 6 * plot_h

    drawing.add(_rect(_LEFT, _BOTTOM, plot_w, plot_h, fill=None, stroke=colors.grey))
    for severity, label in SEVERITY_LABELS.items():
        y = y_of(severity)
        drawing.add(Line(_LEFT, y, _LEFT + plot_w, y, strokeColor=colors.HexColor("#eeeeee")))
        drawing.add(
            String(_LEFT - 4, y - 2.5, label, fontName=fonts.regular, fontSize=7, textAnchor="end")
        )
    drawing.add(String(2, _BOTTOM + plot_h + 2, "severity", fontName=fonts.regular, fontSize=6))
    first_day, last_day = entries[0].occurred_at.date(), entries[-1].occurred_at.date()
    for tick in _month_ticks(first_day, last_day, 8):
        x = x_of(tick)
        drawing.add(Line(x, _BOTTOM, x, _BOTTOM - 3, strokeColor=colors.grey))
        drawing.add(
            String(
                x,
                _BOTTOM - 11,
                tick.strftime("%b %Y"),
                fontName=fonts.regular,
                fontSize=7,
                textAnchor="middle",
            )
        )
    for breach in summary.breaches:
        starts = breach.order.starts_on
        if first_day <= starts <= last_day:
            x = x_of(starts)
            drawing.add(
                Line(
                    x,
                    _BOTTOM,
                    x,
                    _BOTTOM + plot_h,
                    strokeColor=colors.HexColor("#b3001b"),
                    strokeDashArray=[2, 2],
                )
            )
            drawing.add(
                String(
                    x + 2,
                    _BOTTOM + plot_h - 8,
                    "order",
                    fontName=fonts.regular,
                    fontSize=6,
                    fillColor=colors.HexColor("#b3001b"),
                )
            )
    radius = 2.6 if len(entries) <= 200 else 1.6
    for entry in entries:
        severity = entry.severity or 0
        x, y = x_of(entry.occurred_at), y_of(severity)
        drawing.add(Circle(x, y, radius, fillColor=SEVERITY_COLOURS[severity], strokeColor=None))
        if entry.reported_to_police:
            drawing.add(
                Circle(
                    x, y, radius + 1.6, fillColor=None, strokeColor=colors.black, strokeWidth=0.6
                )
            )
    drawing.add(
        String(
            _LEFT,
            1,
            "Each dot is an incident; a ring means it was reported to "
            "police; dashed lines mark orders coming into force.",
            fontName=fonts.regular,
            fontSize=6.5,
        )
    )
    return drawing


def _buckets(summary: Summary) -> tuple[list[PeriodCount], str]:
    weeks = summary.frequency.by_week
    if len(weeks) <= MAX_WEEKLY_BARS:
        return weeks, "week"
    return summary.frequency.by_month, "month"


def frequency_chart(summary: Summary, width: float, height: float, fonts: Fonts) -> Drawing:
    buckets, unit = _buckets(summary)
    if not buckets:
        return _empty(width, height, fonts)
    drawing = Drawing(width, height)
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _BOTTOM - _TOP
    top = max(max(b.count for b in buckets), 1)
    step = max(1, ceil(top / 5))
    top = ceil(top / step) * step
    drawing.add(_rect(_LEFT, _BOTTOM, plot_w, plot_h, fill=None, stroke=colors.grey))
    for value in range(0, top + 1, step):
        y = _BOTTOM + value / top * plot_h
        drawing.add(Line(_LEFT, y, _LEFT + plot_w, y, strokeColor=colors.HexColor("#eeeeee")))
        drawing.add(
            String(
                _LEFT - 4, y - 2.5, str(value), fontName=fonts.regular, fontSize=7, textAnchor="end"
            )
        )
    slot = plot_w / len(buckets)
    label_every = max(1, ceil(len(buckets) / 10))
    for index, bucket in enumerate(buckets):
        x = _LEFT + index * slot
        if bucket.count:
            bar_h = bucket.count / top * plot_h
            drawing.add(
                _rect(x + slot * 0.15, _BOTTOM, slot * 0.7, bar_h, fill=BAR_COLOUR, stroke=None)
            )
        if index % label_every == 0:
            drawing.add(
                String(
                    x + slot / 2,
                    _BOTTOM - 11,
                    bucket.period,
                    fontName=fonts.regular,
                    fontSize=6.5,
                    textAnchor="middle",
                )
            )
    drawing.add(
        String(
            _LEFT,
            1,
            f"Incidents per {unit}, every {unit} from the first incident "
            "to the last (zeros included).",
            fontName=fonts.regular,
            fontSize=6.5,
        )
    )
    return drawing
