"""The audit pack in a real browser (Debian's chromium): the PDF has its pages and every section,
and the HTML draws every chart without asking the network for anything. The PDF is kept under
test-artifacts/reports/ (git-ignored) for a person to look at."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.report.pdf import CHARTS_DRAWN, CHROMIUM, CHROMIUM_ARGS, section_pages
from pipelines.sections.audit import SUMMARY
from pipelines.show.definitions import STANDARD_LABELS
from tests.conftest import SAMPLE_AS_OF
from tests.pipelines.report.test_report import SECTION_TITLES, START

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"Debian chromium is not installed at {CHROMIUM} (`make browser-deps` installs it)",
    ),
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "reports"


def write_pack(db: Path, out: Path, role: str) -> Path:
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--db",
            str(db),
            "--start",
            START,
            "--end",
            SAMPLE_AS_OF,
            "--role",
            role,
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


ROLES = ["governance", "commissioner"]


@pytest.fixture(scope="module")
def pdfs(sample_db, tmp_path_factory) -> dict[str, Path]:
    """The PDF pack of the sample's last year for each role, printed once for the module."""
    out = tmp_path_factory.mktemp("pdf")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    packs = {}
    for role in ROLES:
        packs[role] = write_pack(sample_db, out / f"{role}.pdf", role)
        shutil.copy(packs[role], ARTIFACTS / packs[role].name)
    return packs


@pytest.mark.parametrize("role", ROLES)
def test_the_pack_opens_with_a_summary_of_exactly_one_page(pdfs, role):
    pdf = pdfs[role].read_bytes()
    reader = PdfReader(io.BytesIO(pdf))
    starts = section_pages(pdf)
    # the page after the cover, and the next section starts on the page after it
    assert starts["summary"] == 2 and starts["headlines"] == 3, starts
    text = reader.pages[1].extract_text()
    for recipe in SUMMARY.tables.values():
        assert recipe.heading() in text, recipe.title
    for standard in STANDARD_LABELS.values():
        assert standard in text, standard
    assert "✘" in text and "Standard not met" in text  # a symbol and words, never colour alone


@pytest.mark.parametrize("role", ROLES)
def test_the_pdf_has_its_pages_and_every_section(pdfs, role):
    pdf = pdfs[role]
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    read = [text_and_fill(page) for page in reader.pages]  # each page's text read once
    pages = [text for text, _ in read]
    assert len(pages) > 1
    text = "\n".join(pages)
    for title in SECTION_TITLES:
        assert title in text, title
    assert f"Page 1 of {len(pages)}" in pages[0]  # the footer numbers the pages
    assert f"{role} role" in pages[-1]
    first = reader.pages[0].mediabox  # A4 portrait, in points
    assert (round(float(first.width)), round(float(first.height))) == (595, 842)
    starts = contents_pages(pdf.read_bytes(), pages)
    page_fill([fill for _, fill in read], starts)


# The sections that start a page (report.css): the page before each is the last of a section.
PAGE_STARTS = ("summary", "headlines", "comparisons", "definitions")
# Each entry of the contents: the section's id (its named destination in the PDF) and title.
CONTENTS = {
    "provenance": "Period and data provenance",
    "summary": "Summary",
    "headlines": "Headline figures",
    "comparisons": "Comparisons with earlier periods",
    "standards": "Standards",
    "waits": "Referrals and waits",
    "trials": "Trial response",
    "complications": "Complications",
    "refills": "Refills",
    "batteries": "Pump batteries",
    "activity": "Activity",
    "outcomes": "Cohort outcomes",
    "data_quality": "Data quality",
    "definitions": "Definitions",
    "glossary": "Abbreviations",
}
MM = 72 / 25.4
TOP_MARGIN, BOTTOM_MARGIN = 14 * MM, 16 * MM  # @page in report.css


def contents_pages(pdf: bytes, pages: list[str]) -> dict[str, int]:
    """Each contents entry of the first page ends with the page its section starts on."""
    starts = section_pages(pdf)
    contents = pages[0][pages[0].index("Contents") :]
    assert set(starts) >= set(CONTENTS) - {"data_quality"}  # not a commissioner page
    for id_, title in CONTENTS.items():
        if id_ not in starts:
            continue
        assert f"\n{title} {starts[id_]}\n" in f"\n{contents}\n", (title, starts[id_])
        assert title in pages[starts[id_] - 1], title  # the heading is on that page
    return starts


def text_and_fill(page) -> tuple[str, float]:
    """A page's text, and how far down the area inside the margins it reaches (0 to 1): the
    lowest line of a table, a note or a chart's axis, the footer left out."""
    top = float(page.mediabox.height) - TOP_MARGIN
    ys: list[float] = []

    def seen(text, cm, tm, *_):
        if text.strip():
            ys.append(tm[4] * cm[1] + tm[5] * cm[3] + cm[5])

    text = page.extract_text(visitor_text=seen)
    body = [y for y in ys if BOTTOM_MARGIN < y < top + 20]
    return text, (top - min(body)) / (top - BOTTOM_MARGIN) if body else 0.0


def page_fill(page_fills: list[float], starts: dict[str, int]) -> None:
    """No page is less than a third full, except the last page of a section that the next one
    does not follow on (it starts a page) and the pack's last page."""
    exempt = {starts[id_] - 1 for id_ in PAGE_STARTS} | {len(page_fills)}
    fills = dict(enumerate(page_fills, start=1))
    short = {n: f"{f:.0%}" for n, f in fills.items() if f < 1 / 3 and n not in exempt}
    assert not short, (short, starts)


def test_the_html_draws_every_chart_offline(sample_db, tmp_path):
    """Opened from disk, the page asks for nothing but itself, and every chart draws."""
    from playwright.sync_api import sync_playwright

    html = write_pack(sample_db, tmp_path / "governance.html", "governance")
    requested = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(html.as_uri())
            page.wait_for_function(CHARTS_DRAWN, timeout=60_000)
            charts = page.locator(".plotly-graph-div").count()
        finally:
            browser.close()
    assert requested == [html.as_uri()]
    assert charts >= 10
