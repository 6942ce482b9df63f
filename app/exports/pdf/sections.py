"""The narrative parts of the PDF, drawn from the presentation model (app.chronology.presentation).

Nothing here words a sentence, formats a time or chooses what to cite: each function lays out
sections and charts the model built, so the PDF says what the viewer says. `#n` always means
the n-th incident of the incident table.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer, Table

from app.chronology.presentation import Presentation, Section
from app.exports.pdf.charts import draw_chart
from app.exports.pdf.kit import RISK_FILL, Printer, grid_style

CONTENT_WIDTH = 174 * mm
CHART_HEIGHT = {"timeline": 62 * mm, "frequency": 55 * mm}
# The cover: what an officer reads in the first minute.
COVER = ("risk", "suspects", "screening", "headline")


def _risk_box(section: Section, out: Printer) -> Flowable:
    rows: list[list[Flowable]] = [[out.para(section.title, "h2")]]
    rows.extend([out.line(line)] for line in section.lines)
    return Table(
        rows,
        colWidths=[CONTENT_WIDTH],
        style=grid_style(header=False, extra=[("BACKGROUND", (0, 0), (-1, -1), RISK_FILL)]),
    )


def _section(section: Section, out: Printer, style: str = "h2") -> list[Flowable]:
    """A heading, then its lines; a heading is kept with the lines under it (up to the next
    sub-heading), so no page ends on a heading."""
    story: list[Flowable] = []
    group: list[Flowable] = [out.para(section.title, style)]
    for line in section.lines:
        if line.kind == "heading" and len(group) > 1:
            story.append(KeepTogether(group))
            group = []
        group.append(out.line(line))
    story.append(KeepTogether(group))
    return story


def cover(out: Printer, model: Presentation, identification: str) -> list[Flowable]:
    """Title, reference and period, the risk box, who the diary is about (with the orders),
    S-DASH, the headline facts."""
    story: list[Flowable] = [
        out.para(model.title, "title"),
        out.para(f"Reference: {identification}", "subtitle"),
        *(out.para(line, "subtitle") for line in model.cover),
        Spacer(1, 4 * mm),
    ]
    for section in (s for s in model.sections if s.id in COVER):
        if section.id == "risk":
            story += [_risk_box(section, out), Spacer(1, 1 * mm)]
        else:
            story += _section(section, out)
    story += [Spacer(1, 2 * mm), out.para(model.disclaimer, "small")]
    return story


def charts(model: Presentation, out: Printer) -> list[Flowable]:
    """The trend section with its two charts. A cover that runs over shares its second page
    with them, rather than leaving it almost empty."""
    story: list[Flowable] = [CondPageBreak(150 * mm)]
    for section in (s for s in model.sections if s.id == "trend"):
        story.append(out.para(section.title, "h1"))
        for chart in model.charts:
            story += [
                out.para(chart.title, "h2"),
                draw_chart(chart, CONTENT_WIDTH, CHART_HEIGHT[chart.id], out.fonts),
                out.para(chart.note, "small"),
            ]
        story += [Spacer(1, 3 * mm), *(out.line(line) for line in section.lines)]
    return story


def analysis(model: Presentation, out: Printer) -> list[Flowable]:
    """Course of conduct, offences to consider, orders, FOUR, the listed stalking behaviours."""
    story: list[Flowable] = [CondPageBreak(80 * mm)]
    for section in model.sections:
        if section.id not in COVER and section.id != "trend":
            story += _section(section, out, "h1")
    return story
