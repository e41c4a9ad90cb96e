"""The audit pack's HTML printed to an A4 PDF by Debian's headless chromium (driven by
Playwright, as the browser tests are), offline: every request other than the page itself is
refused, and the page is printed only once every chart has drawn.

The contents list gets its page numbers from a first print: chromium writes a named destination
for each section (the target of a contents link), pypdf reads the page each one lands on, and the
numbers are written into the page, which is printed again. The numbers sit in boxes of a fixed
width, so writing them moves nothing; the pages are read again to make sure."""

from __future__ import annotations

import io
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 60_000
# Plotly marks a chart's div .js-plotly-plot and adds its SVG when it has drawn it.
CHARTS_DRAWN = """() => [...document.querySelectorAll('.plotly-graph-div')]
    .every(div => div.classList.contains('js-plotly-plot') && div.querySelector('.main-svg'))"""
CONTENTS_IDS = "() => [...document.querySelectorAll('[data-page-of]')].map(e => e.dataset.pageOf)"
WRITE_PAGE_NUMBERS = """numbers => document.querySelectorAll('[data-page-of]')
    .forEach(e => { e.textContent = numbers[e.dataset.pageOf] ?? ''; })"""
MAX_PRINTS = 3  # the second print normally agrees with the first


class ChromiumMissing(RuntimeError):
    """No browser to print the PDF with."""


def chromium_available() -> bool:
    return CHROMIUM.is_file()


def section_pages(pdf: bytes) -> dict[str, int]:
    """The page (from 1) of each named destination of a PDF: each element id a link points to."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    pages = {
        name.lstrip("/"): reader.get_destination_page_number(destination)
        for name, destination in reader.named_destinations.items()
    }
    return {name: page + 1 for name, page in pages.items() if page is not None}


def require_chromium() -> None:
    """ChromiumMissing, saying what to do, where there is no browser to print a PDF with."""
    if not chromium_available():
        raise ChromiumMissing(
            f"a PDF needs Debian's chromium at {CHROMIUM}: install it "
            "(`make browser-deps`, or apt-get install chromium), or write "
            ".html or .xlsx instead"
        )


def html_to_pdf(html: str) -> bytes:
    require_chromium()
    # Imported here: only a PDF needs it, and it starts nothing until used.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort())  # the page needs nothing outside it
            page.set_content(html, wait_until="load", timeout=TIMEOUT_MS)
            page.wait_for_function(CHARTS_DRAWN, timeout=TIMEOUT_MS)
            ids: list[str] = page.evaluate(CONTENTS_IDS)
            written: dict[str, int] = {}
            for _ in range(MAX_PRINTS):
                pdf = page.pdf(prefer_css_page_size=True, print_background=True)
                pages = section_pages(pdf)
                numbers = {id_: pages[id_] for id_ in ids if id_ in pages}
                if numbers == written:
                    break
                page.evaluate(WRITE_PAGE_NUMBERS, numbers)
                written = numbers
            return pdf
        finally:
            browser.close()
