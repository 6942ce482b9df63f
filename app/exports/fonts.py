"""The fonts the PDF uses: DejaVu (Debian's fonts-dejavu-core) when installed, else Helvetica.

DejaVu covers Latin, Greek, Cyrillic, Hebrew, Arabic and many symbols, so most of what a victim
types prints as typed. Without it the built-in Helvetica/Courier are used and anything outside
Latin-1 prints as its code point (see app.exports.text): legible, never a crash.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

DEJAVU_DIRS = (
    Path(os.environ.get("CHRONICLE_FONT_DIR", "/usr/share/fonts/truetype/dejavu")),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
_FILES = {
    "ChronicleSans": "DejaVuSans.ttf",
    "ChronicleSans-Bold": "DejaVuSans-Bold.ttf",
    "ChronicleMono": "DejaVuSansMono.ttf",
}


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    mono: str
    drawable: Callable[[str], bool]  # can the regular font draw this character?


def _latin1(char: str) -> bool:
    return ord(char) < 0x100


def _find_dejavu() -> Path | None:
    for folder in DEJAVU_DIRS:
        if all((folder / name).is_file() for name in _FILES.values()):
            return folder
    return None


@cache
def pdf_fonts() -> Fonts:
    """Register the fonts once per process; the same `Fonts` afterwards."""
    folder = _find_dejavu()
    if folder is None:
        return Fonts("Helvetica", "Helvetica-Bold", "Courier", _latin1)
    faces = {name: TTFont(name, str(folder / file)) for name, file in _FILES.items()}
    for face in faces.values():
        pdfmetrics.registerFont(face)
    addMapping("ChronicleSans", 0, 0, "ChronicleSans")
    addMapping("ChronicleSans", 1, 0, "ChronicleSans-Bold")
    addMapping("ChronicleSans", 0, 1, "ChronicleSans")
    addMapping("ChronicleSans", 1, 1, "ChronicleSans-Bold")
    covered = frozenset(faces["ChronicleSans"].face.charToGlyph)
    bold_covered = frozenset(faces["ChronicleSans-Bold"].face.charToGlyph)
    both = covered & bold_covered

    def drawable(char: str) -> bool:
        return ord(char) in both

    return Fonts("ChronicleSans", "ChronicleSans-Bold", "ChronicleMono", drawable)
