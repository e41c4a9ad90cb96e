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
from pipelines.report.pdf import CHARTS_DRAWN, CHROMIUM, CHROMIUM_ARGS
from tests.conftest import SAMPLE_AS_OF
from tests.pipelines.report.test_report import SECTION_TITLES, START

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Debian chromium is not installed at "
                       f"{CHROMIUM} (`make browser-deps` installs it)"),
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "reports"


def write_pack(db: Path, out: Path, role: str) -> Path:
    result = CliRunner().invoke(app, ["report", "--db", str(db), "--start", START, "--end",
                                      SAMPLE_AS_OF, "--role", role, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("role", ["governance", "commissioner"])
def test_the_pdf_has_its_pages_and_every_section(sample_db, tmp_path, role):
    pdf = write_pack(sample_db, tmp_path / f"{role}.pdf", role)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(pdf, ARTIFACTS / pdf.name)
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) > 1
    text = "\n".join(pages)
    for title in SECTION_TITLES:
        assert title in text, title
    assert f"Page 1 of {len(pages)}" in pages[0]   # the footer numbers the pages
    assert f"{role} role" in pages[-1]
    first = reader.pages[0].mediabox  # A4 portrait, in points
    assert (round(float(first.width)), round(float(first.height))) == (595, 842)


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
