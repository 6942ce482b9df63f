"""The chronology as a PDF for officers, signed (PAdES baseline B) with the service certificate.

`render_pdf` lays out the presentation model of a `Summary` and its exhibits
(app.chronology.presentation: cover with risk markers first, charts, the analysis with the
incidents behind it, the full incident table, the exhibit list), then the chain head and how
to verify; `sign_pdf` adds a PAdES signature with the certificate from
app.crypto.signing; `export_pdf` does both. Incidents are numbered #1, #2... in timeline order,
and the incident table lists each number with the first 8 hex digits of its id.

These are synchronous and CPU-bound (pyHanko runs its own event loop while signing): call them
from a worker thread (`asyncio.to_thread`, or a plain `def` route), never on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from io import BytesIO
from typing import Any

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import (
    IncrementalPdfFileWriter,
)
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, SimpleDocTemplate

from app.chronology.presentation import build_presentation
from app.chronology.schemas import Summary
from app.crypto.signing import PdfIdentity, SigningKeys, key_fingerprint
from app.evidence.exhibits import Exhibit
from app.exports.fonts import Fonts, pdf_fonts
from app.exports.model import ChainHead
from app.exports.pdf.kit import Printer, format_time
from app.exports.pdf.sections import analysis, charts, cover
from app.exports.pdf.tables import exhibit_table, incident_table, integrity
from app.exports.text import visible
from app.risk.schemas import RiskScreening

MARGIN = 18 * mm
SIGNATURE_FIELD = "ChronicleExport"
FOOTER_SIZE = 7.5
LABEL_WIDTH = 55 * mm


def _fit(text: str, font: str, width: float) -> str:
    """`text`, cut with an ellipsis to fit `width` points at the footer size."""
    if stringWidth(text, font, FOOTER_SIZE) <= width:
        return text
    while text and stringWidth(text + "…", font, FOOTER_SIZE) > width:
        text = text[:-1]
    return text + "…"


class _Footer:
    """Footers saying "page X of Y" without holding every page in memory: each page draws a
    reference to a form XObject that the canvas defines, with the final count, when it saves.
    """

    FORM = "ChroniclePageTotal"

    def __init__(self, fonts: Fonts, identification: str, generated_at: datetime) -> None:
        self.fonts = fonts
        self.label = _fit(
            "Chronology: " + visible(identification, fonts.drawable, limit=200),
            fonts.regular,
            LABEL_WIDTH,
        )
        self.stamp = f"Generated {format_time(generated_at)}"
        self.pages = 0

    def draw(self, canvas: Canvas, _document: object) -> None:
        width, _ = A4
        self.pages = canvas.getPageNumber()
        canvas.saveState()
        canvas.setFont(self.fonts.regular, FOOTER_SIZE)
        canvas.setStrokeGray(0.7)
        canvas.line(MARGIN, 13 * mm, width - MARGIN, 13 * mm)
        canvas.drawString(MARGIN, 9 * mm, self.label)
        canvas.drawCentredString(width / 2, 9 * mm, self.stamp)
        text = f"Page {self.pages} of "
        x = width - MARGIN - 10 * mm - canvas.stringWidth(text, self.fonts.regular, FOOTER_SIZE)
        canvas.drawString(x, 9 * mm, text)
        canvas.translate(width - MARGIN - 10 * mm, 9 * mm)
        canvas.doForm(self.FORM)
        canvas.restoreState()

    def canvas_class(self) -> type[Canvas]:
        footer = self

        class FooterCanvas(Canvas):
            def save(self) -> None:
                self.beginForm(footer.FORM)
                self.setFont(footer.fonts.regular, FOOTER_SIZE)
                self.drawString(0, 0, str(footer.pages))
                self.endForm()
                super().save()

        return FooterCanvas


def render_pdf(
    summary: Summary,
    exhibits: Sequence[Exhibit],
    *,
    identification: str,
    chain_head: ChainHead,
    key_id: str | None = None,
    key_fingerprint: str | None = None,
    screening: RiskScreening | None = None,
) -> bytes:
    """The unsigned PDF. `identification` is what the victim chose to be known by (initials,
    a reference); it is printed as typed, made safe."""
    fonts = pdf_fonts()
    out = Printer(fonts)
    model = build_presentation(summary, exhibits, screening=screening)
    story: list[Flowable] = [
        *cover(out, model, identification),
        *charts(model, out),
        *analysis(model, out),
        *incident_table(model, out),
        *exhibit_table(model, out),
        *integrity(chain_head, key_id, key_fingerprint, out),
    ]
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title="Course-of-conduct chronology",
        author="Chronicle",
        subject=visible(identification, fonts.drawable, limit=200),
        creator="Chronicle",
        invariant=True,  # no random document id, no clock: the same input, the same bytes
    )
    footer = _Footer(fonts, identification, summary.generated_at)
    document.build(
        story,
        onFirstPage=footer.draw,
        onLaterPages=footer.draw,
        canvasmaker=footer.canvas_class(),
    )
    return buffer.getvalue()


def _der_certificate(certificate: x509.Certificate) -> Any:
    """The asn1crypto form pyHanko takes (asn1crypto is untyped)."""
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def sign_pdf(pdf: bytes, identity: PdfIdentity, *, reason: str | None = None) -> bytes:
    """`pdf` with a PAdES baseline signature over the whole file (an incremental update)."""
    key_der = identity.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    ca = _der_certificate(identity.ca_certificate)
    signer = signers.SimpleSigner(
        signing_cert=_der_certificate(identity.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([ca]),  # type: ignore[no-untyped-call]
    )
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason or "Issued by Chronicle: any change to this file invalidates it",
        name="Chronicle export signing",
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=True)
    signed: BytesIO = signers.sign_pdf(writer, meta, signer=signer)
    return signed.getvalue()


def export_pdf(
    summary: Summary,
    exhibits: Sequence[Exhibit],
    *,
    identification: str,
    chain_head: ChainHead,
    keys: SigningKeys,
    screening: RiskScreening | None = None,
) -> bytes:
    """Render and sign: the `chronology.pdf` of an export bundle."""
    pdf = render_pdf(
        summary,
        exhibits,
        identification=identification,
        chain_head=chain_head,
        key_id=keys.current_id,
        key_fingerprint=key_fingerprint(keys.current.public_key),
        screening=screening,
    )
    return sign_pdf(pdf, keys.pdf)
