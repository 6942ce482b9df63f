"""The officer's PDF, signed: `from app.exports.pdf import export_pdf` (see .document)."""

from app.exports.pdf.document import SIGNATURE_FIELD, export_pdf, render_pdf, sign_pdf

__all__ = ["SIGNATURE_FIELD", "export_pdf", "render_pdf", "sign_pdf"]
