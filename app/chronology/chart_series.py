"""The two charts of a chronology as data: one series and one encoding, drawn by every surface.

The PDF (reportlab vectors) and the share viewer (inline SVG) draw exactly these values: they
scale positions to their own width and height and nothing else, so a dot, a bar, a colour, an
order line or a label can never differ between them.

- Timeline: one dot per incident, numbered as in the incident table (while the numbers fit),
  placed by its UK local time and on the row of its highest severity (DOMAIN.md's ordering,
  1 contact ... 5 physical violence; incidents without one sit on the "-" row), ringed when
  reported to police, with a dashed line on the day each order was served.
- Frequency: incidents per UK week (per month once there would be more than 60 weekly bars),
  every week from the first incident to the last, zeros included.

Colours reach at least 3:1 against white (WCAG 1.4.11), and colour only repeats what the
dot's row says; each chart carries a text description and the rows of a data table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from math import ceil

from app.chronology.codes import SEVERITY_LEGEND
from app.chronology.schemas import PeriodCount, Summary
from app.chronology.text import UK, count_text, day_text, local_day, month_text, short_day

MAX_WEEKLY_BARS = 60
MAX_NUMBERED_DOTS = 60  # beyond this the numbers overlap; the table still lists every one
BAR_COLOUR = "#1f5fa8"
ORDER_COLOUR = "#9b0018"


@dataclass(frozen=True)
class SeverityLevel:
    level: int
    axis: str  # the row's label on the chart
    name: str  # what the level means, for the key and the data table
    colour: str


SEVERITY_SCALE: tuple[SeverityLevel, ...] = (
    SeverityLevel(0, "-", SEVERITY_LEGEND[0], "#6b6b6b"),
    SeverityLevel(1, "1", SEVERITY_LEGEND[1], "#1f5fa8"),
    SeverityLevel(2, "2", SEVERITY_LEGEND[2], "#1b7a4b"),
    SeverityLevel(3, "3", SEVERITY_LEGEND[3], "#8a6100"),
    SeverityLevel(4, "4", SEVERITY_LEGEND[4], "#b5400f"),
    SeverityLevel(5, "5", SEVERITY_LEGEND[5], "#9b0018"),
)


@dataclass(frozen=True)
class Tick:
    position: float  # 0..1 along the axis
    text: str


@dataclass(frozen=True)
class Dot:
    number: int
    position: float  # 0..1 along the time axis
    level: SeverityLevel
    reported: bool
    label: str  # the dot's tooltip / accessible name


@dataclass(frozen=True)
class OrderLine:
    position: float
    label: str  # "Non-molestation order served 20 March 2026"


@dataclass(frozen=True)
class Bar:
    position: float  # 0..1: the left edge of its slot
    height: float  # 0..1 of the axis
    count: int
    label: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str  # the text alternative: what the picture shows, in words
    note: str  # the key printed under the chart
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]  # position 0 at the bottom
    table_headers: tuple[str, str]
    table_rows: tuple[tuple[str, str], ...]
    dots: tuple[Dot, ...] = ()
    numbered: bool = False
    orders: tuple[OrderLine, ...] = ()
    bars: tuple[Bar, ...] = ()
    slot: float = 0.0  # a bar's slot width, as a fraction of the axis


def _instant(moment: datetime) -> float:
    return moment.timestamp() / 86400.0


def _day_start(day: date) -> float:
    return _instant(datetime(day.year, day.month, day.day, tzinfo=UK))


def _month_ticks(first: date, last: date, count: int) -> list[date]:
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    step = max(1, ceil(months / count))
    ticks = []
    for index in range(0, months + 1, step):
        y, m = divmod(first.month - 1 + index, 12)
        ticks.append(date(first.year + y, m + 1, 1))
    return [t for t in ticks if first <= t <= last] or [first]


def _orders(summary: Summary, first: date, last: date) -> list[tuple[date, str]]:
    found: dict[tuple[date, str], str] = {}
    for subject in summary.subjects:
        for order in subject.orders:
            if order.is_order and first <= order.starts_on <= last:
                key = (order.starts_on, order.kind.label)
                found[key] = f"{order.kind.label} served {day_text(order.starts_on)}"
    return [(day, label) for (day, _), label in sorted(found.items())]


def timeline_chart(summary: Summary) -> Chart:
    entries = summary.timeline
    levels = {level.level: level for level in SEVERITY_SCALE}
    y_ticks = tuple(Tick((lv.level + 0.5) / len(SEVERITY_SCALE), lv.axis) for lv in SEVERITY_SCALE)
    title = "Severity of each incident over time"
    note = (
        "Each dot is an incident, numbered as in the incident table and placed on the row of its "
        "highest severity; a ring means it was reported to police; a dashed line marks the day "
        "an order was served."
    )
    if not entries:
        return Chart(
            "timeline", title, "No incidents recorded.", note, (), y_ticks,
            ("Severity", "Incidents"), (),
        )  # fmt: skip
    first_day, last_day = local_day(entries[0].occurred_at), local_day(entries[-1].occurred_at)
    start = _day_start(first_day) - 1
    span = _day_start(last_day) + 2 - start

    def position(value: float) -> float:
        return (value - start) / span

    dots, counts = [], dict.fromkeys(levels, 0)
    for number, entry in enumerate(entries, start=1):
        level = levels[entry.severity or 0]
        counts[level.level] += 1
        behaviours = ", ".join(b.label for b in entry.behaviours) or "no behaviour recorded"
        label = (
            f"#{number}, {day_text(local_day(entry.occurred_at))}: "
            f"severity {level.level or 'none'} ({behaviours})"
        )
        dots.append(
            Dot(
                number,
                position(_instant(entry.occurred_at)),
                level,
                entry.reported_to_police,
                label,
            )
        )
    orders = [
        OrderLine(position(_day_start(day) + 0.5), label)
        for day, label in _orders(summary, first_day, last_day)
    ]
    x_ticks = tuple(
        Tick(position(_day_start(t)), month_text(t)) for t in _month_ticks(first_day, last_day, 8)
    )
    firsts = "; ".join(
        f"severity {seen.severity} first on {day_text(local_day(seen.occurred_at))}"
        for seen in summary.trend.first_seen
    )
    description = (
        f"{count_text(len(entries), 'incident')} from {day_text(first_day)} to "
        f"{day_text(last_day)}, each a dot on the row of its highest severity (1 to 5). "
        f"Trend in severity: {summary.trend.severity.direction.replace('_', ' ')}."
        + (f" {firsts[0].upper()}{firsts[1:]}." if firsts else "")
        + "".join(f" {line.label}." for line in orders)
    )
    return Chart(
        id="timeline",
        title=title,
        description=description,
        note=note,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        table_headers=("Severity", "Incidents"),
        table_rows=tuple(
            (levels[n].name, str(counts[n])) for n in sorted(counts, reverse=True) if counts[n]
        ),
        dots=tuple(dots),
        numbered=len(entries) <= MAX_NUMBERED_DOTS,
        orders=tuple(orders),
    )


def _buckets(summary: Summary) -> tuple[list[PeriodCount], str]:
    weeks = summary.frequency.by_week
    if len(weeks) <= MAX_WEEKLY_BARS:
        return weeks, "week"
    return summary.frequency.by_month, "month"


def _scale(top: int) -> tuple[int, int]:
    step = max(1, ceil(top / 5))
    return max(step, ceil(top / step) * step), step


def frequency_chart(summary: Summary) -> Chart:
    buckets, unit = _buckets(summary)
    title = f"Incidents per {unit}"
    note = (
        f"Incidents per {unit}, every {unit} from the first incident to the last (zeros included)."
    )
    top, step = _scale(max((b.count for b in buckets), default=0))
    y_ticks = tuple(Tick(value / top, str(value)) for value in range(0, top + 1, step))
    if not buckets:
        return Chart(
            "frequency", title, "No incidents recorded.", note, (), y_ticks,
            (f"{unit.capitalize()} beginning", "Incidents"), (),
        )  # fmt: skip
    slot = 1 / len(buckets)
    every = max(1, ceil(len(buckets) / 8))
    bars = tuple(
        Bar(
            index * slot,
            b.count / top,
            b.count,
            f"{unit.capitalize()} beginning {day_text(b.starts_on)}: "
            + count_text(b.count, "incident"),
        )
        for index, b in enumerate(buckets)
    )
    x_ticks = tuple(
        Tick((index + 0.5) * slot, short_day(b.starts_on))
        for index, b in enumerate(buckets)
        if index % every == 0
    )
    busiest = max(buckets, key=lambda b: b.count)
    description = (
        f"Incidents per {unit}, {count_text(len(buckets), unit)} from "
        f"{day_text(buckets[0].starts_on)}. The busiest {unit} began "
        f"{day_text(busiest.starts_on)}, with {busiest.count}. Trend in frequency: "
        f"{summary.trend.frequency.direction.replace('_', ' ')}."
    )
    return Chart(
        id="frequency",
        title=title,
        description=description,
        note=note,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        table_headers=(f"{unit.capitalize()} beginning", "Incidents"),
        table_rows=tuple((day_text(b.starts_on), str(b.count)) for b in buckets),
        bars=bars,
        slot=slot,
    )
