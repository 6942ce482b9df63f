"""A streaming multipart/form-data reader for the one-request evidence upload.

Starlette's `request.form()` spools file parts to temporary files: plaintext on disk. This
reader instead hands the file part's bytes on as they are parsed (python_multipart's
streaming parser), so they go straight into the encrypted writer. The other fields are small
text kept in memory, within limits. Fields: `file` (one, required), `caption`,
`incident_ids` (repeatable; commas allowed), and `id` (a client-chosen evidence id, which
must come before `file`, since the file is encrypted bound to it). Anything else is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from app.errors import Unprocessable
from app.evidence.tus import MAX_CAPTION, MAX_FILE_NAME, MalformedRequest, parse_ids

FIELDS = frozenset({"file", "caption", "incident_ids", "id"})
MAX_FIELD_BYTES = 4 * MAX_CAPTION  # UTF-8 of the longest caption
MAX_PARTS = 120
MAX_HEADER_BYTES = 8 * 1024


class BadForm(Unprocessable):
    def __init__(self, field_name: str, msg: str) -> None:
        super().__init__(
            "The form did not pass validation; see errors.",
            extra={"errors": [{"loc": ["body", field_name], "msg": msg}]},
        )


def boundary_of(content_type: str | None) -> bytes | None:
    """The boundary of a multipart/form-data Content-Type, or None for any other type."""
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary or len(boundary) > 200:
        return None
    return boundary


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    header_name: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    header_bytes: int = 0
    name: str = ""
    is_file: bool = False
    value: bytearray = field(default_factory=bytearray)


class FormReader:
    """Feed it the body; it yields the file's bytes and collects the other fields."""

    def __init__(self, boundary: bytes) -> None:
        self.file_name: str | None = None
        self.caption = ""
        self.incident_ids: list[uuid.UUID] = []
        self.evidence_id: uuid.UUID | None = None
        self.ended = False
        self._part = _Part()
        self._parts = 0
        self._file_bytes: list[bytes] = []
        callbacks: Any = {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._data,
            "on_part_end": self._end,
            "on_end": self._finished,
        }
        self._parser = MultipartParser(boundary, callbacks)

    def file_data(self, body: Iterator[bytes]) -> Iterator[bytes]:
        """The file part's bytes, as the body is parsed; the whole body is read."""
        for chunk in body:
            try:
                self._parser.write(chunk)
            except MultipartParseError:
                raise MalformedRequest("The multipart body is malformed.") from None
            pieces, self._file_bytes = self._file_bytes, []
            yield from pieces
        self._parser.finalize()
        if not self.ended:
            raise MalformedRequest("The multipart body ended before its closing boundary.")
        if self.file_name is None:
            raise BadForm("file", "a file is required")

    def _begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise BadForm("file", "too many form fields")
        self._part = _Part()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._part.header_name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._part.header_value += data[start:end]

    def _count_header(self, size: int) -> None:
        self._part.header_bytes += size
        if self._part.header_bytes > MAX_HEADER_BYTES:
            raise MalformedRequest("A form part's headers are too long.")

    def _header_end(self) -> None:
        part = self._part
        name = part.header_name.decode("latin-1").strip().lower()
        part.headers[name] = part.header_value.decode("latin-1")
        part.header_name, part.header_value = bytearray(), bytearray()

    def _headers_done(self) -> None:
        part = self._part
        disposition, options = parse_options_header(part.headers.get("content-disposition"))
        if disposition != b"form-data" or b"name" not in options:
            raise MalformedRequest("Every form part needs Content-Disposition: form-data; name=...")
        part.name = _text(options[b"name"], "name", 100)
        if part.name not in FIELDS:
            raise BadForm(part.name, "is not a field of this form")
        part.is_file = part.name == "file"
        if part.is_file:
            if self.file_name is not None:
                raise BadForm("file", "only one file per request")
            self.file_name = _text(options.get(b"filename", b""), "file", MAX_FILE_NAME)

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._part.is_file:
            self._file_bytes.append(data[start:end])
            return
        self._part.value += data[start:end]
        if len(self._part.value) > MAX_FIELD_BYTES:
            raise BadForm(self._part.name, "is too long")

    def _end(self) -> None:
        part = self._part
        if part.is_file:
            return
        value = _text(bytes(part.value), part.name, MAX_CAPTION)
        if part.name == "caption":
            self.caption = value
        elif part.name == "incident_ids":
            self.incident_ids = sorted({*self.incident_ids, *parse_ids(value, "incident_ids")})
        elif part.name == "id":
            if self.file_name is not None:
                raise BadForm("id", "must come before the file")
            try:
                self.evidence_id = uuid.UUID(value.strip())
            except ValueError:
                raise BadForm("id", "is not a UUID") from None

    def _finished(self) -> None:
        self.ended = True


def _text(raw: bytes, field_name: str, limit: int) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadForm(field_name, "must be UTF-8 text") from None
    if len(text) > limit:
        raise BadForm(field_name, f"may be at most {limit} characters")
    return text
