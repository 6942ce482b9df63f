"""The narrative parts of the PDF: cover (risk first), charts, and the analysis with citations.

Each function returns a list of flowables; `#n` always means the n-th incident of the full
incident table, whose rows also carry the incident ids.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
)

from app.chronology import present
from app.chronology.schemas import OffenceIndicator, Summary
from app.chronology.text import local_day
from app.evidence.exhibits import Exhibit
from app.exports.charts import frequency_chart, timeline_chart
from app.exports.pdf_kit import RISK_FILL, Printer, format_day, format_time, grid_style
from app.risk.schemas import RiskScreening

CONTENT_WIDTH = 174 * mm


def _period_line(summary: Summary) -> str:
    period = summary.period
    if period.first_occurred_at is None or period.last_occurred_at is None:
        return "No incidents recorded."
    return (
        f"{format_day(local_day(period.first_occurred_at))} to "
        f"{format_day(local_day(period.last_occurred_at))}: {period.incident_count} incidents on "
        f"{period.distinct_days} days over {period.weeks} weeks"
    )


def _risk_box(summary: Summary, out: Printer) -> Flowable:
    rows: list[list[Flowable]] = [[out.para("Risk markers", "h2")]]
    rows.extend([out.para(line, bold=True)] for line in present.stalking_lead(summary))
    if not summary.risk_markers:
        rows.append(
            [
                out.para(
                    "No risk markers were found in the diary. Absence of a marker is "
                    "not evidence of low risk: complete a risk assessment."
                )
            ]
        )
    for marker in summary.risk_markers:
        rows.append(
            [
                Paragraph(
                    f"<b>{out.escaped(marker.title)}.</b> {out.escaped(marker.text)} "
                    f"<i>({out.escaped(out.cite(marker.incident_ids), limit=10**6)})</i>",
                    out.styles["body"],
                )
            ]
        )
    return Table(
        rows,
        colWidths=[CONTENT_WIDTH],
        style=grid_style(header=False, extra=[("BACKGROUND", (0, 0), (-1, -1), RISK_FILL)]),
    )


def cover(
    out: Printer,
    summary: Summary,
    exhibits: Sequence[Exhibit],
    identification: str,
    screening: RiskScreening | None,
) -> list[Flowable]:
    """Title, who and when, the risk markers first, then the headline facts."""
    story: list[Flowable] = [
        out.para(present.title(summary), "title"),
        out.para(f"Reference: {identification}", "subtitle"),
        out.para(_period_line(summary), "subtitle"),
        out.para(
            f"Generated {format_time(summary.generated_at)} · {len(exhibits)} exhibits",
            "subtitle",
        ),
        Spacer(1, 4 * mm),
        _risk_box(summary, out),
        Spacer(1, 3 * mm),
        out.para("Who the diary is about", "h2"),
        *(out.statement(line) for line in present.suspects(summary)),
        Spacer(1, 3 * mm),
        out.para("Risk screening (S-DASH)", "h2"),
        *(out.statement(line) for line in present.screening(screening)),
        Spacer(1, 3 * mm),
        out.para("Headline facts", "h2"),
        out.statement(summary.period.statement),
        out.statement(summary.police_reports.statement),
    ]
    if summary.police_reports.references:
        story.append(
            out.bullet("Police references: " + ", ".join(summary.police_reports.references))
        )
    story.extend(out.statement(c.statement) for c in summary.course_of_conduct)
    for part in (summary.trend.frequency, summary.trend.severity):
        story.append(out.statement(part.statement))
    story.extend(out.statement(b.statement) for b in summary.breaches)
    indicated = [o for o in present.ordered_offences(summary) if o.indicated]
    if indicated:
        names = "; ".join(f"{o.title} ({o.law}) — {o.subject_label}" for o in indicated)
        story.append(out.bullet(f"Offences to consider: {names}. See “Offences to consider”."))
    story += [
        Spacer(1, 2 * mm),
        out.para(
            f"{summary.disclaimer} Numbers such as #12 refer to the incident table, which lists "
            "every incident in order of occurrence with its id. Times are UK local time (GMT or "
            "BST, as marked); each incident shows when it happened (as the victim recorded it, "
            "with its precision) and when the service received it.",
            "small",
        ),
    ]
    return story


def charts(summary: Summary, out: Printer) -> list[Flowable]:
    # A cover that runs over shares its second page with the charts, rather than leaving it
    # almost empty; the charts start a page of their own when they would not fit.
    return [
        CondPageBreak(150 * mm),
        out.para("Timeline", "h1"),
        timeline_chart(summary, CONTENT_WIDTH, 62 * mm, out.fonts),
        Spacer(1, 4 * mm),
        out.para("Frequency", "h1"),
        frequency_chart(summary, CONTENT_WIDTH, 55 * mm, out.fonts),
        Spacer(1, 3 * mm),
        out.statement(summary.trend.frequency.statement),
        out.statement(summary.trend.severity.statement),
        out.para(summary.trend.method, "small"),
        out.statement(summary.gaps.overall.statement),
    ]


def _offence(item: OffenceIndicator, out: Printer) -> Flowable:
    verdict = "indicated" if item.indicated else "not indicated by the diary"
    parts: list[Flowable] = [
        Paragraph(
            f"<b>{out.escaped(item.title)}</b> — {out.escaped(item.law)} — "
            f"{out.escaped(item.subject_label)}: <b>{verdict}</b>",
            out.styles["h2"],
        )
    ]
    parts.extend(out.statement(fact) for fact in item.facts)
    if item.incident_ids:
        parts.append(out.labelled("Supporting incidents:", out.cite(item.incident_ids)))
    return KeepTogether(parts)


def analysis(summary: Summary, out: Printer) -> list[Flowable]:
    """Offences to consider, then course of conduct, orders, FOUR, s.2A(3) behaviours, gaps."""
    story: list[Flowable] = [PageBreak(), out.para("Offences to consider", "h1")]
    story.append(out.para(summary.disclaimer, "small"))
    ordered = present.ordered_offences(summary)
    if not ordered:
        story.append(out.para("The diary does not indicate any offence yet."))
    story.extend(_offence(item, out) for item in ordered)
    story.append(out.para("Course of conduct", "h1"))
    for course in summary.course_of_conduct:
        story.append(out.para(f"{course.subject_label} — {course.law}", "h2"))
        story.append(out.statement(course.statement))
        story.extend(out.statement(c) for c in course.caveats)
    if summary.breaches:
        story.append(out.para("Orders and possible breaches", "h1"))
        for breach in summary.breaches:
            story.append(out.statement(breach.statement))
            if breach.date_uncertain_incident_ids:
                story.append(
                    out.bullet(
                        "Dated too loosely to place before or after the order:",
                        breach.date_uncertain_incident_ids,
                    )
                )
    story.append(out.para("FOUR: fixated, obsessive, unwanted, repeated", "h1"))
    four = summary.four
    for marker in (four.fixated, four.obsessive, four.unwanted, four.repeated):
        verdict = "indicated" if marker.indicated else "not indicated"
        story.append(out.para(f"{marker.label}: {verdict}", "h2"))
        story.extend(out.statement(s) for s in marker.statements)
    story.append(out.para("Behaviours associated with stalking (PHA 1997 s.2A(3))", "h1"))
    if not summary.stalking_behaviours:
        story.append(out.para("None recorded."))
    for behaviour in summary.stalking_behaviours:
        story.append(
            out.bullet(f"{behaviour.provision}: {behaviour.wording}", behaviour.incident_ids)
        )
    story.append(out.para("Gaps between incidents", "h1"))
    story.append(out.statement(summary.gaps.overall.statement))
    for subject in summary.gaps.by_subject:
        story.append(
            out.bullet(
                f"{subject.label}: {subject.gaps.statement.text}",
                subject.gaps.statement.incident_ids,
            )
        )
    return story
