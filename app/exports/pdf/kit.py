"""Shared pieces of the PDF: styles and the one way text becomes a Paragraph (a `Para`).

Every string, whether the victim typed it or the chronology engine composed it (its
statements quote subject names and order terms), goes through `Printer.para`, which escapes
it; only the markup this module adds around escaped text (bold, fonts) is ever parsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, TableStyle

from app.chronology.presentation import Line
from app.chronology.text import time_text
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


class Para(Paragraph):
    """A Paragraph that breaks its lines once per width.

    reportlab asks a table cell for its size each time it measures the table (once per page a
    table is offered, again after every split) and once more to draw it; for a Paragraph each
    ask re-breaks every line. Line breaking depends only on the width (the available height
    never changes it), so asking again at the same width returns the answer already found.
    A Paragraph split across pages makes new Paragraphs, which lay themselves out afresh; one
    whose split was refused (reportlab then drops its lines) lays itself out again.
    """

    _laid_out: tuple[float, float, float] | None = None  # width asked, (width, height) found

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        done = self._laid_out
        if done is not None and done[0] == avail_width and "blPara" in self.__dict__:
            self.width, self.height = done[1], done[2]
            return done[1], done[2]
        width, height = super().wrap(avail_width, avail_height)
        self._laid_out = (avail_width, width, height)
        return width, height


def format_time(moment: datetime) -> str:
    return time_text(moment)


@dataclass
class Printer:
    """Fonts and styles, and the one way a model line becomes a Paragraph."""

    fonts: Fonts

    def __post_init__(self) -> None:
        self.styles = _styles(self.fonts)

    def escaped(self, text: str, *, limit: int = FIELD_LIMIT) -> str:
        return markup(text, self.fonts.drawable, limit=limit)

    def para(self, text: str, style: str = "body", *, bold: bool = False) -> Paragraph:
        body = self.escaped(text)
        if bold:
            body = f"<b>{body}</b>"
        return Para(body, self.styles[style])

    def labelled(self, label: str, text: str, style: str = "body") -> Paragraph:
        """`label:` in bold, then `text`."""
        return Para(f"<b>{self.escaped(label)}</b> {self.escaped(text)}", self.styles[style])

    def line(self, line: Line) -> Paragraph:
        """A line of the presentation model: its lead-in in bold, its citation in italics."""
        body = self.escaped(line.text)
        if line.label:
            body = f"<b>{self.escaped(line.label)}</b> {body}"
        if line.cite is not None:
            body += f" <i>({self.escaped(line.cite.text, limit=10**6)})</i>"
        if line.kind == "heading":
            return Para(body, self.styles["h2"])
        if line.kind == "lead":
            return Para(f"<b>{body}</b>", self.styles["body"])
        if line.kind == "bullet":
            return Para(body, self.styles["bullet"], bulletText="•")
        return Para(body, self.styles["small" if line.kind == "note" else "body"])

    def mono(self, text: str) -> Paragraph:
        return Para(self.escaped(text), self.styles["mono"])


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
