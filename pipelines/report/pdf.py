"""The audit pack's HTML printed to an A4 PDF by Debian's headless chromium (driven by
Playwright, as the browser tests are), offline: every request other than the page itself is
refused, and the page is printed only once every chart has drawn."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 60_000
# Plotly marks a chart's div .js-plotly-plot and adds its SVG when it has drawn it.
CHARTS_DRAWN = """() => [...document.querySelectorAll('.plotly-graph-div')]
    .every(div => div.classList.contains('js-plotly-plot') && div.querySelector('.main-svg'))"""


class ChromiumMissing(RuntimeError):
    """No browser to print the PDF with."""


def chromium_available() -> bool:
    return CHROMIUM.is_file()


def html_to_pdf(html: str) -> bytes:
    if not chromium_available():
        raise ChromiumMissing(f"a PDF needs Debian's chromium at {CHROMIUM}: install it "
                              "(`make browser-deps`, or apt-get install chromium), or write "
                              ".html or .xlsx instead")
    # Imported here: only a PDF needs it, and it starts nothing until used.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort())  # the page needs nothing outside it
            page.set_content(html, wait_until="load", timeout=TIMEOUT_MS)
            page.wait_for_function(CHARTS_DRAWN, timeout=TIMEOUT_MS)
            return page.pdf(prefer_css_page_size=True, print_background=True)
        finally:
            browser.close()
