"""Shared pieces of the PDF: styles, citations and the one way text becomes a Paragraph.

Every string, whether the victim typed it or the chronology engine composed it (its
statements quote subject names and order terms), goes through `Printer.para`, which escapes
it; only the markup this module adds around escaped text (bold, fonts) is ever parsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, TableStyle

from app.chronology import present
from app.chronology.schemas import Statement, Summary
from app.chronology.text import day_text, time_text
from app.exports.fonts import Fonts
from app.exports.text import FIELD_LIMIT, markup

GRID = colors.HexColor("#bbbbbb")
HEADER_FILL = colors.HexColor("#e8edf3")
RISK_FILL = colors.HexColor("#fdecea")


def _styles(fonts: Fonts) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=fonts.regular, fontSize=9.5, leading=12.5)
    return {
        "body": base,
        "small": ParagraphStyle("small", base, fontSize=8, leading=10),
        "cell": ParagraphStyle("cell", base, fontSize=7.5, leading=9.3),
        "cell_bold": ParagraphStyle(
            "cell_bold", base, fontName=fonts.bold, fontSize=7.5, leading=9.3
        ),
        "mono": ParagraphStyle("mono", base, fontName=fonts.mono, fontSize=7, leading=9),
        "title": ParagraphStyle(
            "title",
            base,
            fontName=fonts.bold,
            fontSize=20,
            leading=25,
            alignment=TA_CENTER,
            spaceAfter=6,
        ),
        "subtitle": ParagraphStyle(
            "subtitle", base, fontSize=10.5, leading=14, alignment=TA_CENTER
        ),
        "h1": ParagraphStyle(
            "h1", base, fontName=fonts.bold, fontSize=14, leading=18, spaceBefore=6, spaceAfter=6
        ),
        "h2": ParagraphStyle(
            "h2", base, fontName=fonts.bold, fontSize=11, leading=14, spaceBefore=8, spaceAfter=3
        ),
        "bullet": ParagraphStyle("bullet", base, leftIndent=12, bulletIndent=2, spaceAfter=3),
        "code": ParagraphStyle(
            "code",
            base,
            fontName=fonts.mono,
            fontSize=7.5,
            leading=9.5,
            leftIndent=10,
            spaceAfter=4,
            backColor=colors.HexColor("#f4f4f4"),
        ),
    }


def format_time(moment: datetime) -> str:
    return time_text(moment)


def format_day(day: date) -> str:
    return day_text(day)


@dataclass
class Printer:
    """Fonts, styles and the incident numbering (#1 is the earliest incident in the timeline)."""

    fonts: Fonts
    numbers: dict[UUID, int]

    def __post_init__(self) -> None:
        self.styles = _styles(self.fonts)

    @classmethod
    def for_summary(cls, summary: Summary, fonts: Fonts) -> Printer:
        numbers = {e.incident_id: n for n, e in enumerate(summary.timeline, start=1)}
        return cls(fonts=fonts, numbers=numbers)

    def escaped(self, text: str, *, limit: int = FIELD_LIMIT) -> str:
        return markup(text, self.fonts.drawable, limit=limit)

    def para(self, text: str, style: str = "body", *, bold: bool = False) -> Paragraph:
        body = self.escaped(text)
        if bold:
            body = f"<b>{body}</b>"
        return Paragraph(body, self.styles[style])

    def labelled(self, label: str, text: str, style: str = "body") -> Paragraph:
        """`label:` in bold, then `text`."""
        return Paragraph(f"<b>{self.escaped(label)}</b> {self.escaped(text)}", self.styles[style])

    def bullet(self, text: str, cited: Sequence[UUID] = ()) -> Paragraph:
        body = self.escaped(text)
        if cited:
            body += f" <i>({self.escaped(self.cite(cited), limit=10**6)})</i>"
        return Paragraph(body, self.styles["bullet"], bulletText="•")

    def statement(self, statement: Statement) -> Paragraph:
        return self.bullet(statement.text, statement.incident_ids)

    def mono(self, text: str) -> Paragraph:
        return Paragraph(self.escaped(text), self.styles["mono"])

    def number(self, incident_id: UUID) -> str:
        found = self.numbers.get(incident_id)
        return f"#{found}" if found is not None else f"incident {incident_id}"

    def cite(self, incident_ids: Iterable[UUID]) -> str:
        """`#1, #3-#6, #9` (with an en dash): incident numbers, runs of three or more shortened."""
        known = [self.numbers[i] for i in incident_ids if i in self.numbers]
        unknown = [str(i) for i in incident_ids if i not in self.numbers]
        parts = [
            f"#{first}" if first == last else f"#{first}\N{EN DASH}#{last}"
            for first, last in present.runs(known)
        ]
        parts.extend(f"incident {u}" for u in unknown)
        label = "incident" if len(set(known)) + len(unknown) == 1 else "incidents"
        return f"{label} {', '.join(parts)}" if parts else "no incidents"


def grid_style(*, header: bool = True, extra: Sequence[tuple[Any, ...]] = ()) -> TableStyle:
    commands: list[Any] = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL))
    commands.extend(extra)
    return TableStyle(commands)
