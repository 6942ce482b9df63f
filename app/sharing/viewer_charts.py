"""The viewer's two charts as plain data for inline SVG (rendered by the template, server-side).

- Frequency: incidents per week (per month once there would be more than 60 weekly bars), as
  the PDF draws it, so a rise is visible at a glance.
- Timeline: one bar per incident, placed by date, as tall as its highest severity (DOMAIN.md's
  ordering: 1 contact ... 5 physical violence; incidents without one are a short grey stub).

Each chart carries a text alternative (a title and a one-paragraph description) and the rows
of a data table, so nothing in it is conveyed by the picture alone. Colours reach at least 3:1
against white (WCAG 1.4.11), and colour only repeats what the bar's height says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.chronology.codes import SEVERITY_LEGEND
from app.chronology.schemas import Summary

WIDTH, HEIGHT = 720.0, 220.0
LEFT, RIGHT, TOP, BOTTOM = 40.0, 12.0, 12.0, 34.0
MAX_WEEKLY_BARS = 60
BAR_COLOUR = "#1f4e79"
SEVERITY_COLOURS = {
    0: "#6b6b6b",
    1: "#1f5fa8",
    2: "#1b7a4b",
    3: "#8a6100",
    4: "#b5400f",
    5: "#9b0018",
}


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str  # shown as the bar's tooltip (<title>) and read by screen readers


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    table_headers: tuple[str, str]
    table_rows: list[tuple[str, str]]
    width: float = WIDTH
    height: float = HEIGHT
    plot_left: float = LEFT
    plot_bottom: float = HEIGHT - BOTTOM
    plot_right: float = WIDTH - RIGHT
    plot_top: float = TOP


def _plot_size() -> tuple[float, float]:
    return WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


def _y_ticks(top: int, plot_h: float) -> tuple[int, list[Tick]]:
    step = max(1, -(-top // 5))
    top = max(step, -(-top // step) * step)
    ticks = [
        Tick(LEFT - 6, TOP + plot_h - value / top * plot_h + 4, str(value))
        for value in range(0, top + 1, step)
    ]
    return top, ticks


def frequency_chart(summary: Summary) -> Chart:
    weeks = summary.frequency.by_week
    buckets, unit = (
        (weeks, "week") if len(weeks) <= MAX_WEEKLY_BARS else (summary.frequency.by_month, "month")
    )
    plot_w, plot_h = _plot_size()
    top, y_ticks = _y_ticks(max((b.count for b in buckets), default=0), plot_h)
    slot = plot_w / max(len(buckets), 1)
    label_every = max(1, -(-len(buckets) // 8))
    bars, x_ticks = [], []
    for index, bucket in enumerate(buckets):
        x = LEFT + index * slot
        height = bucket.count / top * plot_h
        noun = "incident" if bucket.count == 1 else "incidents"
        label = f"{unit.capitalize()} of {bucket.starts_on:%d %b %Y}: {bucket.count} {noun}"
        if bucket.count:
            bars.append(
                Bar(x + slot * 0.15, TOP + plot_h - height, slot * 0.7, height, BAR_COLOUR, label)
            )
        if index % label_every == 0:
            x_ticks.append(Tick(x + slot / 2, HEIGHT - BOTTOM + 16, f"{bucket.starts_on:%d %b %y}"))
    busiest = max(buckets, key=lambda b: b.count, default=None)
    if busiest is None:
        description = "No incidents are recorded in this period."
    else:
        description = (
            f"Incidents per {unit}, {len(buckets)} {unit}s from {buckets[0].starts_on:%d %B %Y}. "
            f"The busiest {unit} began {busiest.starts_on:%d %B %Y}, with {busiest.count}. "
            f"Trend in frequency: {summary.trend.frequency.direction.replace('_', ' ')}. "
            "The same figures are in the table below the chart."
        )
    return Chart(
        id="frequency",
        title=f"Incidents per {unit}",
        description=description,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        table_headers=(f"{unit.capitalize()} beginning", "Incidents"),
        table_rows=[(f"{b.starts_on:%d %b %Y}", str(b.count)) for b in buckets],
    )


def _day(moment: datetime) -> float:
    return moment.astimezone(UTC).timestamp() / 86400.0


def timeline_chart(summary: Summary, numbers: dict[str, int]) -> Chart:
    entries = summary.timeline
    plot_w, plot_h = _plot_size()
    _, y_ticks = _y_ticks(5, plot_h)
    if not entries:
        return Chart(
            id="timeline",
            title="Severity of each incident over time",
            description="No incidents are recorded in this period.",
            bars=[],
            y_ticks=y_ticks,
            x_ticks=[],
            table_headers=("Severity", "Incidents"),
            table_rows=[],
        )
    first, last = _day(entries[0].occurred_at), _day(entries[-1].occurred_at)
    span = max(last - first, 1.0)
    width = max(2.0, min(8.0, plot_w / len(entries) * 0.6))
    bars = []
    counts = dict.fromkeys(SEVERITY_COLOURS, 0)
    for entry in entries:
        severity = entry.severity or 0
        counts[severity] += 1
        x = LEFT + (_day(entry.occurred_at) - first) / span * (plot_w - width)
        height = max(severity, 0.25) / 5 * plot_h
        behaviours = ", ".join(b.label for b in entry.behaviours) or "no behaviour recorded"
        label = (
            f"#{numbers[str(entry.incident_id)]}, {entry.occurred_at:%d %b %Y}: "
            f"severity {severity or 'none'} ({behaviours})"
        )
        bars.append(Bar(x, TOP + plot_h - height, width, height, SEVERITY_COLOURS[severity], label))
    x_ticks = [
        Tick(LEFT, HEIGHT - BOTTOM + 16, f"{entries[0].occurred_at:%d %b %y}", "start"),
        Tick(LEFT + plot_w, HEIGHT - BOTTOM + 16, f"{entries[-1].occurred_at:%d %b %y}", "end"),
    ]
    firsts = "; ".join(
        f"severity {seen.severity} first on {seen.occurred_at:%d %B %Y}"
        for seen in summary.trend.first_seen
    )
    description = (
        f"{len(entries)} incidents from {entries[0].occurred_at:%d %B %Y} to "
        f"{entries[-1].occurred_at:%d %B %Y}, each a bar as tall as its highest severity "
        f"(1 to 5). Trend in severity: {summary.trend.severity.direction.replace('_', ' ')}."
        + (f" {firsts[0].upper()}{firsts[1:]}." if firsts else "")
        + " Every incident is listed in the timeline table."
    )
    return Chart(
        id="timeline",
        title="Severity of each incident over time",
        description=description,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        table_headers=("Severity", "Incidents"),
        table_rows=[
            (SEVERITY_LEGEND[level], str(counts[level]))
            for level in sorted(counts, reverse=True)
            if counts[level]
        ],
    )
