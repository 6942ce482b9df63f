"""What an officer reads, built once from a summary: the one model behind the PDF and the viewer.

`build_presentation` turns a `Summary` (and the screening and exhibits that go with it) into
ordered sections of lines, each line already worded, its incidents cited as numbered runs
(#1 to #24), its times in UK local time; the incident and exhibit rows; and the two charts as one
series with one encoding (app.chronology.chart_series). The PDF (app.exports) and the share
viewer (app.sharing) render this and nothing else, so they cannot disagree on a sentence, a
time, what "none" is called, or a colour.

Each summary sentence appears once: the course-of-conduct sentence is in "Course of conduct"
(not again under every offence), the gap sentence once under the trend, a breach once under
its order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

from app.chronology import present
from app.chronology.behaviours import NOT_INDICATED
from app.chronology.chart_series import Chart, frequency_chart, timeline_chart
from app.chronology.law import stalking_list_name
from app.chronology.schemas import Statement, Summary, TimelineEntry
from app.chronology.text import count_text, day_text, local_day, time_text

LineKind = Literal["heading", "lead", "bullet", "para", "note"]
NO_RISK_MARKERS = (
    "No risk markers were found in the diary. Absence of a marker is not evidence of low risk: "
    "complete a risk assessment."
)
NO_OFFENCE = "The diary does not indicate any offence yet."
NO_STALKING_BEHAVIOUR = "None recorded."
NO_INCIDENTS = "No incidents recorded."
NO_EXHIBITS = "No exhibits are attached to this chronology."
EXHIBITS_NOTE = (
    "Each file is in the bundle's evidence/ folder under its exhibit number, exactly as "
    "received (bit for bit); its SHA-256 was computed when it was received."
)
NUMBERS_NOTE = (
    "Numbers such as #12 refer to the incident table, which lists every incident in order of "
    "occurrence with its id. Times are UK local time (GMT or BST, as marked); each incident "
    "shows when it happened (as the victim recorded it, with its precision) and when the "
    "service received it."
)
# Generic sentences a presenter may repeat under different headings.
_REPEATABLE = frozenset({NOT_INDICATED})


class ExhibitLike(Protocol):
    """What the model reads of an exhibit (app.exports.model.Exhibit has these)."""

    @property
    def number(self) -> str: ...
    @property
    def caption(self) -> str: ...
    @property
    def file_name(self) -> str: ...
    @property
    def media_type(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    @property
    def captured_at(self) -> datetime | None: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def incident_id(self) -> UUID | None: ...


MAX_CITED_RUNS = 10  # a longer citation shows its first runs, its last, and the count


@dataclass(frozen=True)
class Cite:
    """The incidents a line rests on: numbered runs (a presenter links each number) and the
    short ids of any not in this chronology's table."""

    runs: tuple[tuple[int, int], ...]
    others: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return sum(b - a + 1 for a, b in self.runs) + len(self.others)

    @property
    def noun(self) -> str:
        return "incident" if self.count == 1 else "incidents"

    def segments(self) -> list[tuple[str, int | None]]:
        """The citation as text pieces, each number with the incident it links to: '#1', an en dash,
        '#4', ', ', '#7'. 250 scattered incidents read as their first runs, the last and
        the count, not as 250 numbers (the incident table lists every one)."""
        cut = len(self.runs) > MAX_CITED_RUNS
        items: list[list[tuple[str, int | None]]] = [
            [(f"#{a}", a)] + ([("\N{EN DASH}", None), (f"#{b}", b)] if b != a else [])
            for a, b in (self.runs[: MAX_CITED_RUNS - 1] if cut else self.runs)
        ]
        if cut:
            last = self.runs[-1][1]
            items[-1] += [(" … ", None), (f"#{last}", last), (f" ({self.count} in all)", None)]
        items.extend([(f"id {other}", None)] for other in self.others)
        found: list[tuple[str, int | None]] = [(f"{self.noun} ", None)]
        for index, item in enumerate(items):
            found += ([(", ", None)] if index else []) + item
        return found

    @property
    def text(self) -> str:
        """'incidents #1-#4, #7' (with an en dash), as both surfaces print it."""
        return "".join(piece for piece, _ in self.segments())


@dataclass(frozen=True)
class Line:
    text: str
    kind: LineKind = "bullet"
    cite: Cite | None = None
    label: str = ""  # a bold lead-in, such as a risk marker's title

    @property
    def full_text(self) -> str:
        """The line as a reader sees it, citation included."""
        text = f"{self.label} {self.text}" if self.label else self.text
        return f"{text} ({self.cite.text})" if self.cite else text


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    lines: tuple[Line, ...]

    def groups(self) -> list[tuple[LineKind, list[Line]]]:
        """Consecutive lines of one kind together (the viewer makes one list of bullets)."""
        found: list[tuple[LineKind, list[Line]]] = []
        for line in self.lines:
            if found and found[-1][0] == line.kind:
                found[-1][1].append(line)
            else:
                found.append((line.kind, [line]))
        return found


@dataclass(frozen=True)
class IncidentRow:
    number: int
    short_id: str  # the first 8 hex digits; chronology.json has the full id
    when: str
    recorded: str
    behaviours: str
    who: str
    channel: str
    location: str
    description: str
    witnesses: str
    effect: str
    police: str
    evidence: str
    exhibits: tuple[str, ...]  # exhibit numbers attached to this incident
    mark: str | None  # who drafted the entry, when not the victim


@dataclass(frozen=True)
class ExhibitRow:
    number: str
    caption: str
    file_name: str
    incident: int | None  # the incident's number in the table
    captured: str
    received: str
    size: str
    media_type: str
    sha256: str


@dataclass(frozen=True)
class Presentation:
    title: str
    cover: tuple[str, ...]  # the lines under the title: period, generated
    disclaimer: str
    sections: tuple[Section, ...]  # in reading order; the charts go after the "trend" section
    charts: tuple[Chart, ...]
    incidents: tuple[IncidentRow, ...]
    exhibits: tuple[ExhibitRow, ...]
    numbers: Mapping[UUID, int] = field(repr=False)

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    def statements(self) -> list[str]:
        """Every line of every section as read, for checking surfaces against each other."""
        return [line.full_text for s in self.sections for line in s.lines]


def size_text(size: int) -> str:
    """'1,234,567 bytes (1.2 MiB)'."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size:,} bytes ({size / scale:.1f} {unit})"
    return f"{size:,} bytes"


class _Builder:
    def __init__(self, numbers: Mapping[UUID, int]) -> None:
        self.numbers = numbers
        self.seen: set[str] = set()

    def cite(self, ids: Iterable[UUID]) -> Cite | None:
        ids = list(ids)
        if not ids:
            return None
        known = [self.numbers[i] for i in ids if i in self.numbers]
        others = tuple(dict.fromkeys(str(i)[:8] for i in ids if i not in self.numbers))
        return Cite(tuple(present.runs(known)), others)

    def line(self, text: str, kind: LineKind = "bullet", ids: Iterable[UUID] = ()) -> Line:
        return Line(text, kind, self.cite(ids))

    def statements(self, statements: Iterable[Statement]) -> list[Line]:
        """Each summary sentence once in the whole presentation."""
        lines = []
        for s in statements:
            if s.text in self.seen and s.text not in _REPEATABLE:
                continue
            self.seen.add(s.text)
            lines.append(self.line(s.text, ids=s.incident_ids))
        return lines


def _period_line(summary: Summary) -> str:
    period = summary.period
    if period.first_occurred_at is None or period.last_occurred_at is None:
        return NO_INCIDENTS
    return (
        f"{day_text(local_day(period.first_occurred_at))} to "
        f"{day_text(local_day(period.last_occurred_at))}: "
        f"{count_text(period.incident_count, 'incident')} on "
        f"{count_text(period.distinct_days, 'day')} over {count_text(period.weeks, 'week')}"
    )


def _risk(summary: Summary, b: _Builder) -> Section:
    lines = [Line(text, "lead") for text in present.stalking_lead(summary)]
    if not summary.risk_markers:
        lines.append(Line(NO_RISK_MARKERS, "para"))
    for marker in summary.risk_markers:
        lines.append(Line(marker.text, "bullet", b.cite(marker.incident_ids), f"{marker.title}."))
    return Section("risk", "Risk markers", tuple(lines))


def _headline(summary: Summary, b: _Builder) -> Section:
    lines = b.statements([summary.period.statement, summary.police_reports.statement])
    if summary.police_reports.references:
        refs = ", ".join(summary.police_reports.references)
        lines.append(Line(f"Police references: {refs}"))
    indicated = [o for o in present.ordered_offences(summary) if o.indicated]
    if indicated:
        names = "; ".join(f"{o.title} ({o.law}) — {o.subject_label}" for o in indicated)
        lines.append(Line(f"Offences to consider: {names}. See “Offences to consider”."))
    return Section("headline", "Headline facts", tuple(lines))


def _trend(summary: Summary, b: _Builder) -> Section:
    trend = summary.trend
    lines = b.statements([trend.frequency.statement, trend.severity.statement])
    lines.append(Line(f"How the trend is worked out: {trend.method}", "note"))
    lines += b.statements([summary.gaps.overall.statement])
    for subject in summary.gaps.by_subject:
        if subject.gaps.statement.text not in b.seen:
            b.seen.add(subject.gaps.statement.text)
            text = f"{subject.label}: {subject.gaps.statement.text}"
            lines.append(b.line(text, ids=subject.gaps.statement.incident_ids))
    return Section("trend", "Frequency, severity and gaps", tuple(lines))


def _conduct(summary: Summary, b: _Builder) -> Section:
    lines: list[Line] = []
    for course in summary.course_of_conduct:
        lines.append(Line(f"{course.subject_label} — {course.law}", "heading"))
        lines += b.statements([course.statement, *course.caveats])
    return Section("conduct", "Course of conduct", tuple(lines))


def _offences(summary: Summary, b: _Builder) -> Section:
    ordered = present.ordered_offences(summary)
    lines: list[Line] = [] if ordered else [Line(NO_OFFENCE, "para")]
    for offence in ordered:
        verdict = "indicated" if offence.indicated else "not indicated by the diary"
        heading = f"{offence.title} — {offence.law} — {offence.subject_label}: {verdict}"
        lines.append(Line(heading, "heading"))
        lines += b.statements(offence.facts)
        if offence.incident_ids:
            lines.append(b.line("Supporting incidents.", ids=offence.incident_ids))
    return Section("offences", "Offences to consider", tuple(lines))


def _orders(summary: Summary, b: _Builder) -> Section:
    lines: list[Line] = []
    for breach in summary.breaches:
        lines += b.statements([breach.statement])
        if breach.date_uncertain_incident_ids:
            text = "Dated too loosely to place before or after the order."
            lines.append(b.line(text, ids=breach.date_uncertain_incident_ids))
    return Section("orders", "Orders and possible breaches", tuple(lines))


def _four(summary: Summary, b: _Builder) -> Section:
    lines: list[Line] = []
    four = summary.four
    for marker in (four.fixated, four.obsessive, four.unwanted, four.repeated):
        verdict = "indicated" if marker.indicated else "not indicated"
        lines.append(Line(f"{marker.label}: {verdict}", "heading"))
        lines += b.statements(marker.statements)
    return Section("four", "FOUR: fixated, obsessive, unwanted, repeated", tuple(lines))


def _behaviours(summary: Summary, b: _Builder) -> Section:
    name = stalking_list_name(summary.jurisdiction)
    title = f"Behaviours associated with stalking ({name.removeprefix('the ')})"
    lines = [
        b.line(f"{item.provision}: {item.wording}", ids=item.incident_ids)
        for item in summary.stalking_behaviours
    ] or [Line(NO_STALKING_BEHAVIOUR, "para")]
    return Section("behaviours", title, tuple(lines))


def _rows(
    summary: Summary, exhibits: Sequence[ExhibitLike], marks: Mapping[UUID, str]
) -> list[IncidentRow]:
    by_incident: dict[UUID, list[str]] = defaultdict(list)
    for exhibit in exhibits:
        if exhibit.incident_id is not None:
            by_incident[exhibit.incident_id].append(exhibit.number)
    return [
        _row(n, e, tuple(by_incident[e.incident_id]), marks)
        for n, e in enumerate(summary.timeline, 1)
    ]


def _row(
    number: int, entry: TimelineEntry, exhibits: tuple[str, ...], marks: Mapping[UUID, str]
) -> IncidentRow:
    count = entry.evidence_count
    evidence = count_text(count, "item") if count else "None"
    return IncidentRow(
        number=number,
        short_id=str(entry.incident_id)[:8],
        when=present.when(entry),
        recorded=present.recorded(entry),
        behaviours=present.behaviours(entry),
        who=present.who(entry),
        channel=present.channel(entry),
        location=entry.location or "",
        description=entry.description or "(no description)",
        witnesses=entry.witnesses or "",
        effect=present.effect(entry),
        police=present.police(entry),
        evidence=evidence,
        exhibits=exhibits,
        mark=marks.get(entry.incident_id),
    )


def _exhibit(exhibit: ExhibitLike, numbers: Mapping[UUID, int]) -> ExhibitRow:
    incident = numbers.get(exhibit.incident_id) if exhibit.incident_id else None
    return ExhibitRow(
        number=exhibit.number,
        caption=exhibit.caption or "(no caption)",
        file_name=exhibit.file_name,
        incident=incident,
        captured=time_text(exhibit.captured_at) if exhibit.captured_at else "not known",
        received=time_text(exhibit.received_at),
        size=size_text(exhibit.size),
        media_type=exhibit.media_type,
        sha256=exhibit.sha256,
    )


def build_presentation(
    summary: Summary,
    exhibits: Sequence[ExhibitLike] = (),
    *,
    screening: present.Screenings | None = None,
    marks: Mapping[UUID, str] | None = None,
) -> Presentation:
    """The whole of what an officer reads, in reading order."""
    numbers = {e.incident_id: n for n, e in enumerate(summary.timeline, start=1)}
    b = _Builder(numbers)
    suspects = Section(
        "suspects", "Who the diary is about", tuple(b.statements(present.suspects(summary)))
    )
    sdash = Section(
        "screening", "Risk screening (S-DASH)", tuple(b.statements(present.screening(screening)))
    )
    sections = (
        _risk(summary, b),
        suspects,
        sdash,
        _headline(summary, b),
        _trend(summary, b),
        _conduct(summary, b),
        _offences(summary, b),
        _orders(summary, b),
        _four(summary, b),
        _behaviours(summary, b),
    )
    return Presentation(
        title=present.title(summary),
        cover=(
            _period_line(summary),
            f"Generated {time_text(summary.generated_at)} · {count_text(len(exhibits), 'exhibit')}",
        ),
        disclaimer=f"{summary.disclaimer} {NUMBERS_NOTE}",
        sections=tuple(s for s in sections if s.lines),
        charts=(timeline_chart(summary), frequency_chart(summary)),
        incidents=tuple(_rows(summary, exhibits, marks or {})),
        exhibits=tuple(_exhibit(e, numbers) for e in exhibits),
        numbers=numbers,
    )
