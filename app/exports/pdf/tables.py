"""The reference parts of the PDF: every incident, every exhibit, the chain head, how to verify.

The incident table is built as many small tables (one per block of rows, header repeated)
rather than one: reportlab re-measures the rest of a table at every page break, which is
quadratic for a 2,000-row table and linear for blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Table

from app.chronology.presentation import (
    EXHIBITS_NOTE,
    NO_EXHIBITS,
    NO_INCIDENTS,
    IncidentRow,
    Presentation,
)
from app.exports.model import ChainHead
from app.exports.pdf.kit import Para, Printer, grid_style

ROWS_PER_BLOCK = 25
INCIDENT_COLUMNS = [w * mm for w in (11, 29, 36, 66, 13, 19)]
EXHIBIT_COLUMNS = [w * mm for w in (20, 70, 44, 40)]


def _cell(out: Printer, lines: Sequence[str], style: str = "cell") -> Para:
    """One Paragraph for a cell of short lines, joined (cheaper to lay out than one per line)."""
    return Para("<br/>".join(lines), out.styles[style])


def _field(out: Printer, label: str, text: str) -> str:
    return f"<b>{out.escaped(label)}</b> {out.escaped(text)}"


def _conduct_cell(row: IncidentRow, out: Printer) -> Para:
    lines = [f"<b>{out.escaped(row.behaviours)}</b>", _field(out, "Who:", row.who)]
    if row.channel:
        lines.append(_field(out, "How:", row.channel))
    if row.location:
        lines.append(_field(out, "Where:", row.location))
    return _cell(out, lines)


def _account_cell(row: IncidentRow, out: Printer) -> list[Para]:
    """The account in a Paragraph of its own, then the fields under it in another.

    A Paragraph of one run of one font takes reportlab's fast path through line breaking;
    one that mixes runs (a bold label, a <br/>) breaks every word through the slow path,
    which for a long account costs several times as much. The two stack exactly as the lines
    of one Paragraph would."""
    fields = [_field(out, "Effect:", row.effect)]
    if row.witnesses:
        fields.append(_field(out, "Witnesses:", row.witnesses))
    fields.append(f'<font name="{out.fonts.mono}" size="6.5">id {row.short_id}</font>')
    return [Para(out.escaped(row.description), out.styles["cell"]), _cell(out, fields)]


def _row(row: IncidentRow, out: Printer) -> list[Any]:
    return [
        f"#{row.number}",
        _cell(out, [out.escaped(row.when), out.escaped(row.recorded)]),
        _conduct_cell(row, out),
        _account_cell(row, out),
        _cell(out, [out.escaped(text) for text in (row.evidence, *row.exhibits)]),
        _cell(out, [out.escaped(row.police)]),
    ]


def incident_table(model: Presentation, out: Printer) -> list[Flowable]:
    """Every incident, in order: number, when, conduct, the victim's account, evidence, police."""
    story: list[Flowable] = [CondPageBreak(60 * mm), out.para("Incidents", "h1")]
    if not model.incidents:
        story.append(out.para(NO_INCIDENTS))
        return story
    header = [
        out.para(title, "cell_bold")
        for title in ("No.", "When", "Conduct", "Account and effect", "Evidence", "Police")
    ]
    plain_cells = [
        ("FONTNAME", (0, 1), (0, -1), out.fonts.bold),
        ("FONTSIZE", (0, 1), (-1, -1), 7.5),
        ("LEADING", (0, 1), (-1, -1), 9.3),
    ]
    rows = [_row(row, out) for row in model.incidents]
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


def exhibit_table(model: Presentation, out: Printer) -> list[Flowable]:
    story: list[Flowable] = [CondPageBreak(60 * mm), out.para("Exhibits", "h1")]
    if not model.exhibits:
        story.append(out.para(NO_EXHIBITS))
        return story
    story.append(out.para(EXHIBITS_NOTE, "small"))
    header = [
        out.para(t, "cell_bold")
        for t in ("Exhibit", "Description", "Captured / received", "Size and type")
    ]
    rows: list[list[Any]] = [header]
    spans: list[tuple[Any, ...]] = []
    for exhibit in model.exhibits:
        description = [
            out.para(exhibit.caption, "cell"),
            out.labelled("File:", exhibit.file_name, "cell"),
        ]
        if exhibit.incident is not None:
            description.append(out.labelled("Incident:", f"#{exhibit.incident}", "cell"))
        rows.append(
            [
                out.para(exhibit.number, "cell_bold"),
                description,
                [
                    out.labelled("Captured:", exhibit.captured, "cell"),
                    out.labelled("Received:", exhibit.received, "cell"),
                ],
                [out.para(exhibit.size, "cell"), out.para(exhibit.media_type, "cell")],
            ]
        )
        rows.append([Para(f"SHA-256 {exhibit.sha256}", out.styles["mono"]), "", "", ""])
        spans.append(("SPAN", (0, len(rows) - 1), (-1, len(rows) - 1)))
    story.append(
        Table(rows, colWidths=EXHIBIT_COLUMNS, repeatRows=1, style=grid_style(extra=spans))
    )
    return story


def integrity(
    chain_head: ChainHead, key_id: str | None, key_fingerprint: str | None, out: Printer
) -> list[Flowable]:
    story: list[Flowable] = [CondPageBreak(90 * mm), out.para("Integrity", "h1")]
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
