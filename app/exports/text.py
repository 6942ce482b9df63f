"""Victim-typed text made safe to print: visible control characters, escaped markup, a cap.

reportlab's Paragraph parses a small XML markup language, so every string a victim typed is
escaped before it reaches one; otherwise `<b>` or a stray `&` would change the document or
crash it. Characters a reader could be misled by are shown, not applied: a right-to-left
override, a NUL or a lone surrogate prints as `[U+202E]`, so the officer sees that it was
there and the text cannot visually reorder itself. Characters the font cannot draw print as
their code point too, rather than as an empty box. Very long fields are cut in the PDF (the
full text is in chronology.json, which the PDF says), so a hostile 1 MB entry cannot make the
document unusable.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache
from xml.sax.saxutils import escape

# Bidirectional controls: they reorder what is displayed without being displayed themselves.
_BIDI_CONTROLS = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
FIELD_LIMIT = 6000  # characters of one field shown in the PDF


def code_point(char: str) -> str:
    return f"[U+{ord(char):04X}]"


@lru_cache(maxsize=8192)
def _shown(char: str, drawable: Callable[[str], bool]) -> str:
    if char in "\n":
        return char
    if char == "\t":
        return " "
    number = ord(char)
    if number in _BIDI_CONTROLS:
        return code_point(char)
    category = unicodedata.category(char)
    if category in ("Cc", "Cs") or (number & 0xFFFE) == 0xFFFE:
        return code_point(char)
    if category == "Cf":
        return ""  # zero-width joiners, BOMs and the like: invisible and harmless once dropped
    if not drawable(char):
        return code_point(char)
    return char


def visible(text: str, drawable: Callable[[str], bool], *, limit: int = FIELD_LIMIT) -> str:
    """`text` with line ends normalised, controls made visible and at most `limit` characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cut = len(text) - limit
    if cut > 0:
        text = text[:limit]
    # Each distinct character of a field is judged once (and remembered for the next field):
    # a diary's text uses a few dozen characters, repeated many thousands of times.
    judged = {char: _shown(char, drawable) for char in set(text)}
    unchanged = all(char == shown for char, shown in judged.items())
    shown = text if unchanged else "".join(judged[char] for char in text)
    if cut > 0:
        shown += f" … [{cut:,} more characters not shown; the full text is in chronology.json]"
    return shown


def markup(text: str, drawable: Callable[[str], bool], *, limit: int = FIELD_LIMIT) -> str:
    """Paragraph markup that prints `text` literally, line breaks kept."""
    return escape(visible(text, drawable, limit=limit)).replace("\n", "<br/>")
