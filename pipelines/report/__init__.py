"""The governance audit pack: `itb-audit report` and the Overview's download buttons.

`build` gathers what the pack says for a period, site, condition and role (content.py); the
pack is then written as self-contained HTML (html.py), as a PDF printed from that HTML by
headless chromium (pdf.py), or as an XLSX workbook (workbook.py). docs/report.md describes it.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.report.content import Request, build, report_roles
from pipelines.report.html import render_html
from pipelines.report.model import Report
from pipelines.report.pdf import ChromiumMissing, chromium_available, html_to_pdf, require_chromium
from pipelines.report.workbook import workbook_bytes

__all__ = [
    "FORMATS",
    "ChromiumMissing",
    "Report",
    "Request",
    "build",
    "chromium_available",
    "format_of",
    "pack_bytes",
    "report_bytes",
    "report_roles",
]

FORMATS = {
    "html": "text/html",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def report_bytes(request: Request, fmt: str) -> bytes:
    """The pack for the request in one of FORMATS; a PDF without chromium is refused before the
    pack is built (seconds for years of data), not after."""
    if fmt == "pdf":
        require_chromium()
    return pack_bytes(build(request), fmt)


def pack_bytes(report: Report, fmt: str) -> bytes:
    """A built pack in one of FORMATS: several formats of one pack need one `build`."""
    if fmt == "xlsx":
        return workbook_bytes(report)
    html = render_html(report)
    return html_to_pdf(html) if fmt == "pdf" else html.encode("utf-8")


def format_of(path: Path) -> str:
    """The format an output file's extension asks for."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"{path.name}: the report is written as .html, .pdf or .xlsx")
    return fmt
