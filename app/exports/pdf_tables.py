"""The reference parts of the PDF: every incident, every exhibit, the chain head, how to verify.

The incident table is built as many small tables (one per block of rows, header repeated)
rather than one: reportlab re-measures the rest of a table at every page break, which is
quadratic for a 2,000-row table and linear for blocks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Paragraph, Table

from app.chronology import present
from app.chronology.schemas import Summary, TimelineEntry
from app.chronology.text import time_text
from app.evidence.exhibits import Exhibit
from app.exports.model import ChainHead
from app.exports.pdf_kit import Printer, grid_style

ROWS_PER_BLOCK = 25
INCIDENT_COLUMNS = [w * mm for w in (11, 29, 36, 66, 13, 19)]
EXHIBIT_COLUMNS = [w * mm for w in (20, 70, 44, 40)]


def _cell(out: Printer, lines: Sequence[str], style: str = "cell") -> Paragraph:
    """One Paragraph per cell, lines joined (far cheaper to lay out than one per line)."""
    return Paragraph("<br/>".join(lines), out.styles[style])


def _field(out: Printer, label: str, text: str) -> str:
    return f"<b>{out.escaped(label)}</b> {out.escaped(text)}"


def _when_cell(entry: TimelineEntry, out: Printer) -> Paragraph:
    return _cell(out, [out.escaped(present.when(entry)), out.escaped(present.recorded(entry))])


def _conduct_cell(entry: TimelineEntry, out: Printer) -> Paragraph:
    lines = [
        f"<b>{out.escaped(present.behaviours(entry))}</b>",
        _field(out, "Who:", present.who(entry)),
    ]
    if present.channel(entry):
        lines.append(_field(out, "How:", present.channel(entry)))
    if entry.location:
        lines.append(_field(out, "Where:", entry.location))
    return _cell(out, lines)


def _account_cell(entry: TimelineEntry, out: Printer) -> Paragraph:
    lines = [out.escaped(entry.description or "(no description)")]
    effects = [
        *(["fear of violence"] if entry.fear_of_violence else []),
        *(["alarm or distress"] if entry.alarm_or_distress else []),
        *(c.label.lower() for c in entry.daily_life_changes),
    ]
    if effects:
        lines.append(_field(out, "Impact:", "; ".join(effects)))
    if entry.witnesses:
        lines.append(_field(out, "Witnesses:", entry.witnesses))
    # The first 8 hex digits identify an incident within one diary (chronology.json has the
    # full id); a full UUID in every row was noise an officer had to read past.
    short = str(entry.incident_id)[:8]
    lines.append(f'<font name="{out.fonts.mono}" size="6.5">id {short}</font>')
    return _cell(out, lines)


def _police_cell(entry: TimelineEntry, out: Printer) -> Paragraph:
    if entry.police_references:
        return _cell(out, [out.escaped(ref) for ref in entry.police_references])
    return _cell(out, ["reported" if entry.reported_to_police else "—"])


def incident_table(summary: Summary, exhibits: Sequence[Exhibit], out: Printer) -> list[Flowable]:
    """Every incident, in order: number, when, conduct, the victim's account, evidence, police."""
    story: list[Flowable] = [PageBreak(), out.para("Incidents", "h1")]
    if not summary.timeline:
        story.append(out.para("No incidents recorded."))
        return story
    by_incident: dict[UUID, list[str]] = defaultdict(list)
    for exhibit in exhibits:
        if exhibit.incident_id is not None:
            by_incident[exhibit.incident_id].append(exhibit.number)
    header = [
        out.para(title, "cell_bold")
        for title in ("No.", "When", "Conduct", "Account and impact", "Evid.", "Police ref.")
    ]
    plain_cells = [
        ("FONTNAME", (0, 1), (0, -1), out.fonts.bold),
        ("FONTNAME", (4, 1), (4, -1), out.fonts.regular),
        ("FONTSIZE", (0, 1), (-1, -1), 7.5),
        ("LEADING", (0, 1), (-1, -1), 9.3),
    ]
    rows: list[list[Any]] = []
    for number, entry in enumerate(summary.timeline, start=1):
        # Plain strings for the short cells: exhibit numbers are validated letters and digits.
        evidence = "\n".join([str(entry.evidence_count), *by_incident.get(entry.incident_id, ())])
        rows.append(
            [
                f"#{number}",
                _when_cell(entry, out),
                _conduct_cell(entry, out),
                _account_cell(entry, out),
                evidence,
                _police_cell(entry, out),
            ]
        )
    for start in range(0, len(rows), ROWS_PER_BLOCK):
        block = [header, *rows[start : start + ROWS_PER_BLOCK]]
        story.append(
            Table(
                block,
                colWidths=INCIDENT_COLUMNS,
                repeatRows=1,
                splitInRow=1,
                style=grid_style(extra=plain_cells),
            )
        )
    return story


def _size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size:,} bytes ({size / scale:.1f} {unit})"
    return f"{size:,} bytes"


def exhibit_table(exhibits: Sequence[Exhibit], out: Printer) -> list[Flowable]:
    story: list[Flowable] = [PageBreak(), out.para("Exhibits", "h1")]
    if not exhibits:
        story.append(out.para("No exhibits are attached to this chronology."))
        return story
    story.append(
        out.para(
            "Each file is in the bundle's evidence/ folder under its exhibit number, exactly as "
            "received (bit for bit); its SHA-256 was computed when it was received.",
            "small",
        )
    )
    header = [
        out.para(t, "cell_bold")
        for t in ("Exhibit", "Description", "Captured / received", "Size and type")
    ]
    rows: list[list[Any]] = [header]
    spans: list[tuple[Any, ...]] = []
    for exhibit in exhibits:
        description = [
            out.para(exhibit.caption or "(no caption)", "cell"),
            out.labelled("File:", exhibit.file_name, "cell"),
        ]
        if exhibit.incident_id is not None:
            description.append(out.labelled("Incident:", out.number(exhibit.incident_id), "cell"))
        captured = time_text(exhibit.captured_at) if exhibit.captured_at else "not known"
        rows.append(
            [
                out.para(exhibit.number, "cell_bold"),
                description,
                [
                    out.labelled("Captured:", captured, "cell"),
                    out.labelled("Received:", time_text(exhibit.received_at), "cell"),
                ],
                [out.para(_size(exhibit.size), "cell"), out.para(exhibit.media_type, "cell")],
            ]
        )
        rows.append([Paragraph(f"SHA-256 {exhibit.sha256}", out.styles["mono"]), "", "", ""])
        spans.append(("SPAN", (0, len(rows) - 1), (-1, len(rows) - 1)))
    story.append(
        Table(rows, colWidths=EXHIBIT_COLUMNS, repeatRows=1, style=grid_style(extra=spans))
    )
    return story


def integrity(
    chain_head: ChainHead, key_id: str | None, key_fingerprint: str | None, out: Printer
) -> list[Flowable]:
    story: list[Flowable] = [PageBreak(), out.para("Integrity", "h1")]
    story.append(
        out.para(
            "Every entry, amendment, withdrawal and exhibit of this diary is an event in a hash "
            "chain: each event's hash covers the one before it, so no event can be changed, "
            "removed or reordered without breaking every later hash. This chronology was produced "
            "from the chain whose head is:"
        )
    )
    story.append(out.labelled("Events in the chain:", str(chain_head.length)))
    story.append(out.para("Head hash (SHA-256 of the last event):"))
    story.append(out.para(chain_head.hash, "code"))
    if key_id is not None:
        story.append(out.labelled("Bundle manifest signed with key:", key_id))
    if key_fingerprint is not None:
        story.append(out.para("Its public key fingerprint (SHA-256 of the raw key):"))
        story.append(out.para(key_fingerprint, "code"))
    story.extend(how_to_verify(out))
    return story


_STEPS = [
    (
        "Unpack the bundle and check every file against the list of hashes:",
        "unzip bundle.zip -d bundle && cd bundle\nsha256sum --strict -c SHA256SUMS",
    ),
    (
        "Check the Ed25519 signature on the manifest (OpenSSL 3):",
        "openssl pkeyutl -verify -pubin -inkey signing-key.pem -rawin \\\n"
        "  -in manifest.json -sigfile manifest.sig",
    ),
    (
        "Compare signing-key.pem with the key the service publishes (GET /v1/keys, the key "
        "named in manifest.json):",
        "openssl pkey -pubin -in signing-key.pem -outform DER | tail -c 32 | sha256sum",
    ),
    ("Check this PDF's own signature (PAdES):", "pdfsig chronology.pdf"),
    (
        "Or run the project's verifier, which does all of this and re-checks the hash chain:",
        "python -m app.cli verify bundle.zip --key signing-key-from-the-service.pem",
    ),
]


def how_to_verify(out: Printer) -> list[Flowable]:
    story: list[Flowable] = [out.para("How to verify", "h2")]
    story.append(
        out.para(
            "This PDF is one file of an export bundle (a zip). The bundle also holds the summary "
            "as JSON (chronology.json), every exhibit file, the hash chain with the data needed "
            "to recompute it (chain.json), a manifest of every file's size and SHA-256 "
            "(manifest.json), its signature (manifest.sig) and the public key (signing-key.pem). "
            "With standard tools:"
        )
    )
    for number, (text, command) in enumerate(_STEPS, start=1):
        story.append(out.para(f"{number}. {text}"))
        story.append(out.para(command, "code"))
    story.append(
        out.para(
            "Each step must report success (sha256sum: every line OK; openssl: Signature Verified "
            "Successfully; pdfsig: Signature is Valid, Total document signed). Any failure means "
            "the file is not as the service issued it. The full procedure is in the service's "
            "docs/verifying.md.",
            "small",
        )
    )
    return story
