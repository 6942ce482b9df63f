"""The officer's PDF: every incident and exhibit is in it, it is signed, and it survives anything
a victim might type. Checked with real tools: pdftotext, pdfsig and pyHanko's validator."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from app.chronology.summary import build_summary
from app.crypto.signing import SigningKeys, certificate_fingerprint
from app.evidence.exhibits import Exhibit
from app.exports.model import ChainHead
from app.exports.pdf import export_pdf, render_pdf
from tests.chronology.scenario import make_incident, make_subject
from tests.exports.builders import GENERATED_AT, Diary, Evidence

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfsig") is None,
    reason="poppler-utils (pdftotext, pdfsig) is not installed",
)
HEAD = ChainHead(length=21, hash="3f" * 32)


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", " ", result.stdout.decode("utf-8"))


def pdfsig(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdfsig", str(path)], capture_output=True)
    return result.stdout.decode() + result.stderr.decode()


def validate(pdf: bytes, keys: SigningKeys) -> PdfSignatureStatus:
    ca = asn1_x509.Certificate.load(
        keys.pdf.ca_certificate.public_bytes(serialization.Encoding.DER)
    )
    reader = PdfFileReader(io.BytesIO(pdf))
    (signature,) = reader.embedded_signatures
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[ca]))


@pytest.fixture(scope="module")
def scenario_pdf(diary: Diary, evidence: Evidence, keys: SigningKeys) -> bytes:
    return export_pdf(
        diary.summary(),
        evidence.exhibits,
        identification="J.S. / ref 2026-114",
        chain_head=HEAD,
        keys=keys,
    )


@needs_poppler
def test_every_incident_appears_by_number_with_its_words_and_id(
    scenario_pdf: bytes, diary: Diary, tmp_path: Path
) -> None:
    text = text_of(scenario_pdf, tmp_path)
    summary = diary.summary()
    by_id = {i.id: i for i in diary.incidents}
    assert len(summary.timeline) == 18
    for number, entry in enumerate(summary.timeline, start=1):
        assert f"#{number} " in text
        assert by_id[entry.incident_id].description[:30] in text
        assert f"id {str(entry.incident_id)[:8]}" in text
        assert str(entry.incident_id) not in text  # short ids in rows, not full UUIDs


@needs_poppler
def test_every_exhibit_appears_with_its_full_sha256(
    scenario_pdf: bytes, evidence: Evidence, tmp_path: Path
) -> None:
    text = text_of(scenario_pdf, tmp_path)
    for exhibit in evidence.exhibits:
        assert exhibit.number in text
        assert exhibit.sha256 in text


@needs_poppler
def test_risk_markers_come_first_and_offences_cite_incident_numbers(
    scenario_pdf: bytes, tmp_path: Path
) -> None:
    text = text_of(scenario_pdf, tmp_path)
    assert text.index("Risk markers") < text.index("Headline facts")
    assert text.index("Headline facts") < text.index("Severity of each incident over time")
    assert "Threat to kill. Threat to kill recorded: 1 incident. (incident #13)" in text
    offences = text[text.index("Offences to consider St") :]
    assert "Stalking — PHA 1997 s.2A — Daniel: indicated" in offences
    assert "Supporting incidents. (incidents #" in offences
    # Think stalking first: the title, the risk box and the offences all lead with it.
    assert text.startswith("Stalking — course of conduct by Daniel, ex-partner")
    risk = text[text.index("Risk markers") :]
    assert risk.removeprefix("Risk markers").lstrip().startswith("Stalking")
    assert offences.index("Stalking — PHA 1997 s.2A") < offences.index("Harassment — PHA")
    assert "chain of" not in text[: text.index("Headline facts")]
    cover = text[: text.index("Headline facts")]
    assert "Who the diary is about" in cover and "Daniel, ex-partner: " in cover
    assert "Non-molestation order, served 20 March 2026" in cover
    sdash = text.index("Risk screening (S-DASH)")
    assert sdash < text.index("No S-DASH screening recorded.") < text.index("Headline facts")


@needs_poppler
def test_chain_head_and_page_x_of_y_footers(scenario_pdf: bytes, tmp_path: Path) -> None:
    text = text_of(scenario_pdf, tmp_path)
    pages = re.findall(r"Page (\d+) of (\d+)", text)
    total = int(pages[0][1])
    assert [int(p) for p, _ in pages] == list(range(1, total + 1))
    assert {int(t) for _, t in pages} == {total}
    assert "3f" * 32 in text
    assert "Events in the chain: 21" in text


def test_signature_validates_with_the_service_ca_as_trust_root(
    scenario_pdf: bytes, keys: SigningKeys
) -> None:
    status = validate(scenario_pdf, keys)
    assert status.bottom_line
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE


def test_signature_does_not_validate_against_another_ca(
    scenario_pdf: bytes, other_keys: SigningKeys
) -> None:
    status = validate(scenario_pdf, other_keys)
    assert status.intact
    assert not status.trusted
    assert not status.bottom_line


@needs_poppler
def test_pdfsig_reports_the_signature_valid_and_covering_the_whole_file(
    scenario_pdf: bytes, tmp_path: Path
) -> None:
    report = pdfsig(scenario_pdf, tmp_path)
    assert "Signature is Valid." in report
    assert "Total document signed" in report
    assert "Signer Certificate Common Name: Chronicle export signing" in report


@needs_poppler
def test_one_changed_byte_in_the_signed_range_breaks_the_signature(
    scenario_pdf: bytes, keys: SigningKeys, tmp_path: Path
) -> None:
    marker = b"Course-of-conduct chronology"
    at = scenario_pdf.index(marker)
    tampered = scenario_pdf[:at] + b"c" + scenario_pdf[at + 1 :]
    status = validate(tampered, keys)
    assert not status.intact
    assert not status.bottom_line
    report = pdfsig(tampered, tmp_path)
    assert "Signature is Valid." not in report
    assert "Digest Mismatch" in report or "Invalid" in report


@needs_poppler
@pytest.mark.parametrize("incidents", [0, 1], ids=["empty diary", "one incident"])
def test_tiny_diaries_render_and_sign(incidents: int, keys: SigningKeys, tmp_path: Path) -> None:
    diary = [make_incident("only", "2026-02-01", ["contacting"], description="First text.")]
    summary = build_summary(diary[:incidents], [make_subject("daniel")], generated_at=GENERATED_AT)
    pdf = export_pdf(summary, [], identification="AB", chain_head=ChainHead(0, "0" * 64), keys=keys)
    assert validate(pdf, keys).bottom_line
    text = text_of(pdf, tmp_path)
    assert "No exhibits are attached" in text
    if incidents:
        assert "#1 " in text and "First text." in text
    else:
        assert "No incidents recorded." in text


HOSTILE = [
    "NUL\x00byte and bell\x07 and escape\x1b[31m",
    "RTL override: \u202egnp.exe and isolate \u2067x\u2069",
    "<b>bold?</b> <para> &amp; & </script><script>alert(1)</script> <font size=99>",
    "quotes \" ' and backslash \\ and ]]> and <!-- comment -->",
    "lone surrogate \ud800 and noncharacter \uffff and BOM \ufeff",
    "emoji 😀🔪 family 👩\u200d👩\u200d👧 and CJK 他一直跟踪我 and Arabic يلاحقني and Hebrew עוקב",
    "A" * 20_000,  # one unbreakable word far wider than any column
    "😀" * 300_000,  # over 1 MB of emoji
    "line\nbreaks\r\nand\ttabs " * 500,
]


@needs_poppler
def test_hostile_strings_render_without_crashing_and_print_literally(
    keys: SigningKeys, tmp_path: Path
) -> None:
    incidents = [
        make_incident(
            f"hostile_{n}",
            f"2026-03-{n + 1:02d}",
            ["contacting"],
            description=text,
            location=text[:500],
            witnesses=text[:300],
            platform=text[:100],
            police_references=(text[:50],),
            reported_to_police=True,
        )
        for n, text in enumerate(HOSTILE)
    ]
    subject = make_subject("daniel")
    subject = replace(subject, label=HOSTILE[2])
    summary = build_summary(incidents, [subject], generated_at=GENERATED_AT)
    exhibits = [
        Exhibit(
            number="EX-001",
            evidence_id=incidents[0].id,
            caption=HOSTILE[1] + HOSTILE[2],
            media_type="image/jpeg; <x>",
            size=1,
            sha256="a" * 64,
            captured_at=None,
            received_at=datetime(2026, 3, 1, tzinfo=UTC),
            file_name="..\\..\\<evil>\x00.jpg",
        )
    ]
    pdf = export_pdf(
        summary, exhibits, identification=HOSTILE[1] + HOSTILE[0], chain_head=HEAD, keys=keys
    )
    assert validate(pdf, keys).bottom_line
    text = text_of(pdf, tmp_path)
    assert "[U+202E]gnp.exe" in text
    assert "NUL[U+0000]byte" in text
    assert "<b>bold?</b> <para> &amp; & </script><script>alert(1)</script>" in text
    assert "lone surrogate [U+D800]" in text
    assert "more characters not shown; the full text is in chronology.json" in text
    assert "他一直跟踪我" not in text  # no CJK in DejaVu: shown as code points instead
    assert "[U+4ED6][U+4E00]" in text


def test_render_is_deterministic_for_the_same_input(diary: Diary, evidence: Evidence) -> None:
    def render() -> bytes:
        return render_pdf(
            diary.summary(), evidence.exhibits, identification="J.S.", chain_head=HEAD
        )

    assert render() == render()


@needs_poppler
def test_the_documented_certificate_fingerprint_pipeline_matches_the_published_one(
    scenario_pdf: bytes, keys: SigningKeys, tmp_path: Path
) -> None:
    (tmp_path / "chronology.pdf").write_bytes(scenario_pdf)
    subprocess.run(["pdfsig", "-dump", "chronology.pdf"], cwd=tmp_path, check=True)
    # The exact pipeline docs/verifying.md gives officers, so it runs in a shell.
    result = subprocess.run(  # noqa: S602
        "openssl pkcs7 -inform DER -in chronology.pdf.sig0 -print_certs"
        " | sed -n '/CN = Chronicle export signing$/,/END CERTIFICATE/p'"
        " | openssl x509 -noout -fingerprint -sha256",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    printed = result.stdout.decode().strip().split("=", 1)[1].replace(":", "").lower()
    assert printed == certificate_fingerprint(keys.pdf.certificate)
