"""Diaries for the render tests, built as facts (no HTTP): the demo diary, one incident, 2,000.

Each `Case` renders the PDF (unsigned: the signature is tested elsewhere) and the viewer's
HTML from one presentation model, and reads both back as text.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from html.parser import HTMLParser
from pathlib import Path

from app.chronology.model import IncidentFacts, Order, SubjectFacts
from app.chronology.presentation import Presentation, build_presentation
from app.chronology.risk import sdash_result, suggest_sdash_answers
from app.chronology.schemas import Summary
from app.chronology.summary import build_summary
from app.demo import EXHIBIT_INCIDENTS
from app.demo import facts as demo_facts
from app.evidence.exhibits import Exhibit
from app.exports.model import ChainHead
from app.exports.pdf import render_pdf
from app.risk.schemas import AssessmentOut, RiskScreening, ScreeningAnswer
from app.sharing.shares.schemas import Recipient
from app.viewer.pages import ViewerFrame, render_viewer

SUBJECT = uuid.uuid5(uuid.NAMESPACE_URL, "render:subject")
HEAD = ChainHead(length=42, hash="ab" * 32)
# The PDF's footer sits in the bottom 13 mm; text above it is the page's content.
CONTENT_HEIGHT = 842 - 40


def _id(kind: str, n: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"render:{kind}:{n}")


def _exhibit(n: int, incident: IncidentFacts) -> Exhibit:
    return Exhibit(
        number=f"EX-{n:03d}",
        evidence_id=_id("evidence", n),
        caption=f"Photo {n}",
        media_type="image/png",
        size=1000 + n,
        sha256=hashlib.sha256(str(n).encode()).hexdigest(),
        captured_at=incident.occurred_at,
        received_at=incident.recorded_at,
        file_name=f"photo-{n}.png",
        incident_id=incident.id,
    )


def _order(served: date) -> Order:
    return Order(
        kind="non_molestation_order",
        starts_on=served,
        ends_on=served + timedelta(days=365),
        conditions="Not to contact her directly or indirectly.",
    )


def _subject(served: date | None) -> SubjectFacts:
    orders = (_order(served),) if served else ()
    return SubjectFacts(id=SUBJECT, label="Mark Ellis", relationship="ex_partner", orders=orders)


def _screening(incidents: list[IncidentFacts], subjects: list[SubjectFacts]) -> RiskScreening:
    answers = {q: "yes" for q in ("q1", "q2", "q3", "q5", "q7", "q8")}
    answers.update({q: "no" for q in ("q4", "q6", "q9")})
    latest = AssessmentOut(
        id=_id("assessment", 1),
        created_at=incidents[-1].recorded_at + timedelta(days=1),
        answered_by="officer",
        answerer_name=None,
        crime_reference="46/12345/26",
        subject_id=subjects[0].id,
        answers={q: ScreeningAnswer(answer=a) for q, a in answers.items()},  # type: ignore[arg-type]
        result=sdash_result(answers, relationship="ex_partner"),
    )
    as_of = incidents[-1].recorded_at + timedelta(days=2)
    suggestions = suggest_sdash_answers(incidents, subjects, as_of=as_of)
    return RiskScreening(latest=latest, history=[latest], suggestions=suggestions)


@dataclass
class Case:
    name: str
    incidents: list[IncidentFacts]
    subjects: list[SubjectFacts]
    exhibits: list[Exhibit]
    screening: RiskScreening | None

    @cached_property
    def summary(self) -> Summary:
        last = self.incidents[-1].recorded_at
        return build_summary(self.incidents, self.subjects, generated_at=last + timedelta(days=3))

    @cached_property
    def model(self) -> Presentation:
        return build_presentation(self.summary, self.exhibits, screening=self.screening)

    def pdf(self) -> bytes:
        return render_pdf(
            self.summary,
            self.exhibits,
            identification="46/12345/26",
            chain_head=HEAD,
            screening=self.screening,
        )

    def html(self) -> str:
        frame = ViewerFrame(
            recipient=Recipient(name="PC Jane Smith", force="Kent Police", crime_reference=None),
            expires_at=self.summary.generated_at + timedelta(days=30),
            scope_text="every incident in the diary, with evidence files.",
            show_exhibits=True,
            chain_head=HEAD,
            base_path="/s/chs_example",
            exhibit_files={e.number: e.bundle_path.rpartition("/")[2] for e in self.exhibits},
        )
        return render_viewer(self.model, frame)


def demo_case() -> Case:
    """The diary `make demo` loads (app.demo), as facts."""
    incidents, subjects = demo_facts()
    exhibits = [_exhibit(k + 1, incidents[n]) for k, n in enumerate(EXHIBIT_INCIDENTS)]
    return Case("demo", incidents, subjects, exhibits, _screening(incidents, subjects))


def one_incident_case() -> Case:
    """A single winter incident (GMT), no order, no screening."""
    when = datetime(2026, 1, 14, 19, 5, tzinfo=UTC)
    incident = IncidentFacts(
        id=_id("one", 1),
        occurred_at=when,
        precision="exact",
        recorded_at=when + timedelta(hours=2),
        behaviours=("contacting",),
        subject_ids=(SUBJECT,),
        channel="text_message",
        description="Twenty texts in an hour after I blocked his number.",
        alarm_or_distress=True,
    )
    return Case("one", [incident], [_subject(None)], [], None)


BEHAVIOUR_CYCLE = (
    ("contacting",),
    ("following",),
    ("loitering", "watching_or_spying"),
    ("turning_up_at_home",),
    ("monitoring_communications",),
    ("damage_to_property",),
    ("threat_of_violence", "contacting"),
    ("unwanted_gifts",),
)


def many_case(count: int = 2000) -> Case:
    """`count` incidents over about two years (a few a day near the end), an order half way."""
    start = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
    incidents = []
    for n in range(count):
        when = start + timedelta(minutes=int(n * 360 + (n % 7) * 37))
        behaviours = BEHAVIOUR_CYCLE[n % len(BEHAVIOUR_CYCLE)]
        incidents.append(
            IncidentFacts(
                id=_id("many", n),
                occurred_at=when,
                precision="exact" if n % 3 else "approximate",
                recorded_at=when + timedelta(hours=1 + n % 30),
                behaviours=behaviours,
                subject_ids=(SUBJECT,),
                channel="in_person" if n % 2 else "text_message",
                description=f"Entry {n + 1}: he was there again.",
                fear_of_violence="threat_of_violence" in behaviours,
                alarm_or_distress=n % 4 == 0,
                reported_to_police=n % 50 == 0,
                police_references=(f"CR/{n}/25",) if n % 50 == 0 else (),
                evidence_count=1 if n % 200 == 0 else 0,
            )
        )
    served = incidents[count // 2].occurred_at.date()
    subjects = [_subject(served)]
    exhibits = [_exhibit(k + 1, incidents[n]) for k, n in enumerate(range(0, count, 200))]
    return Case("many", incidents, subjects, exhibits, _screening(incidents, subjects))


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def pdf_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page above the footer, whitespace collapsed."""
    path = tmp_path / "render.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]
    area = ["-x", "0", "-y", "0", "-W", "596", "-H", str(CONTENT_HEIGHT)]
    found = []
    for page in range(1, pages + 1):
        command = ["pdftotext", "-f", str(page), "-l", str(page), *area, str(path), "-"]
        result = subprocess.run(command, capture_output=True, check=True, text=True)
        found.append(words(result.stdout))
    return found


class _Text(HTMLParser):
    SKIP = frozenset({"style", "title", "desc", "script"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.skipping += tag in self.SKIP
        if tag in ("p", "li", "h1", "h2", "h3", "br", "td", "th", "tr", "dt", "dd", "text"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.skipping -= tag in self.SKIP

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The page's readable text, as a browser's innerText would give it (whitespace collapsed)."""
    parser = _Text()
    parser.feed(html)
    return words("".join(parts for parts in parser.parts))
