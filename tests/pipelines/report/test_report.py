"""The audit pack (`itb-audit report`): its figures are the JSON's (suppressed for commissioners),
the HTML fetches nothing, each role sees the patients it may, the commissioner workbook holds no
small count and no patient, and the command fails clearly."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import openpyxl
import pandas as pd
import polars as pl
import pytest
from typer.testing import CliRunner

from pipelines.access.roles import Role, display_id
from pipelines.cli import app
from pipelines.config import load_settings
from pipelines.figures.comparisons import compare
from pipelines.figures.disclosure import SUPPRESSED, Disclosure, suppress_kpis
from pipelines.figures.kpis import Scope, compute_kpis, flatten
from pipelines.load.pseudonym import resolve_key
from pipelines.report import Request, pack_bytes, report_bytes
from pipelines.report.content import _Builder, build
from pipelines.report.formatting import UNIT_NAMES, cell
from pipelines.sections.audit import BATTERIES, OVERVIEW, SUMMARY
from pipelines.show.definitions import FIGURES, unit_of
from pipelines.show.display import VERDICTS, delta_text, detail_text, fmt, loads_text
from pipelines.warehouse import connect_readonly
from tests.conftest import SAMPLE_AS_OF
from tests.fixtures.kpi_fixtures import END as END_2024
from tests.fixtures.kpi_fixtures import START as START_2024
from tests.fixtures.kpi_fixtures import Warehouse

START, END = "2025-11-02", SAMPLE_AS_OF
ROLES = ["clinician", "governance", "commissioner"]
LOCAL_ID = re.compile(r"\bP\d{6}\b")  # the sample's local patient ids
CLINIC_RECORD_ID = re.compile(r"\b[ARTIFC]\d{7}\b")  # its referral, refill, implant, ... ids
SECTION_TITLES = [
    "Period and data provenance",
    "Summary",
    "Headline figures",
    "Comparisons with earlier periods",
    "Standards",
    "Referrals and waits",
    "Trial response",
    "Complications",
    "Refills",
    "Pump batteries",
    "Activity",
    "Cohort outcomes",
    "Definitions",
]


class Page(HTMLParser):
    """What a browser would read in the pack: each figure (data-kpi, data-value), every URL it
    could fetch (src/href of an element, CSS), and the section titles."""

    def __init__(self, html: str):
        super().__init__()
        self.figures: list[tuple[str, object]] = []
        self.urls: list[str] = []
        self.css: list[str] = []
        self.titles: list[str] = []
        self.scripts: list[str] = []
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-kpi" in a:
            self.figures.append((a["data-kpi"], json.loads(a["data-value"])))
        self.urls += [a[k] for k in ("src", "href", "srcset", "data", "poster") if a.get(k)]
        self.css += [a["style"]] if a.get("style") else []
        self._in = tag

    def handle_data(self, data):
        if self._in == "style":
            self.css.append(data)
        elif self._in == "script":
            self.scripts.append(data)
        elif self._in == "h2":
            self.titles.append(data)

    def handle_endtag(self, tag):
        self._in = None


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def json_figures(sample_db):
    result = cli("kpis", "--db", str(sample_db), "--start", START, "--end", END, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def write_pack(sample_db, role: str, path) -> None:
    """`itb-audit report` for the test period and this role, written to path."""
    args = ("--db", str(sample_db), "--start", START, "--end", END, "--role", role)
    result = cli("report", *args, "--out", str(path))
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def packs(sample_db, tmp_path_factory):
    """The HTML pack of each role, written by the command."""
    out = tmp_path_factory.mktemp("packs")
    html = {}
    for role in ROLES:
        path = out / f"{role}.html"
        write_pack(sample_db, role, path)
        html[role] = path.read_text(encoding="utf-8")
    return html


@pytest.fixture(scope="module")
def overdue(sample_db):
    """The pumps overdue for a refill at the period's end (the sample has some)."""
    scope = Scope(dt.date.fromisoformat(START), dt.date.fromisoformat(END), None, load_settings())
    with connect_readonly(sample_db) as con:
        pumps = scope.run(con, "active_pumps").filter(pl.col("overdue_now"))
    assert pumps.height
    return pumps


def expected(role: str, json_figures: dict) -> dict:
    if role == "commissioner":
        return flatten(suppress_kpis(json_figures, Disclosure.from_settings(load_settings())))
    return flatten(json_figures)


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_every_figure_of_the_pack_is_the_json_s(packs, json_figures, role):
    shown = Page(packs[role]).figures
    figures = expected(role, json_figures)
    for key, value in shown:
        assert key in figures and value == figures[key], (key, value, figures.get(key))
    missing = set(figures) - {key for key, _ in shown}
    # The loads the figures come from are not figures: the cover says them in words.
    loads = {key for key in missing if key.startswith("loads.")}
    assert loads and loads_text(json_figures["loads"]) in packs[role]
    # The weight-gain standard's older keys are shown as the standard's own (the same values).
    assert missing - loads == {
        "complications.weight_gain_standard_status",
        "complications.weight_gain_standard",
    }
    assert (
        figures["complications.weight_gain_standard"],
        figures["complications.weight_gain_standard_status"],
    ) == (figures["standards.weight_gain.target"], figures["standards.weight_gain.status"])


@pytest.mark.parametrize("role", ROLES)
def test_the_html_fetches_nothing(packs, role):
    page = Page(packs[role])
    assert page.urls and all(url.startswith("#") for url in page.urls), page.urls
    css = " ".join(page.css)
    assert "@import" not in css and "url(" not in css
    assert not re.search(r"<(link|iframe|img|object|embed)\b", packs[role], re.I)
    # plotly.js once, inlined (a script element with no src), then one small script per chart
    big = [s for s in page.scripts if len(s) > 1_000_000]
    assert len(big) == 1 and "plotly" in big[0][:2000].lower()
    assert packs[role].count("Plotly.newPlot") >= 3


@pytest.mark.parametrize("role", ROLES)
def test_the_pack_has_every_section(packs, role):
    titles = Page(packs[role]).titles
    for title in SECTION_TITLES:
        assert title in titles
    assert ("Data quality" in titles) == (role != "commissioner")  # not a commissioner page


def test_clinicians_see_local_ids_and_governance_pseudonyms(packs, overdue):
    row = overdue.row(0, named=True)
    assert re.search(rf"\b{row['patient_id']}\b", packs["clinician"])
    pseudonym = display_id(
        Role.GOVERNANCE, row["site"], "patient_id", row["patient_id"], resolve_key()
    )
    assert pseudonym in packs["governance"]
    assert not LOCAL_ID.search(packs["governance"]), LOCAL_ID.search(packs["governance"])
    assert not CLINIC_RECORD_ID.search(packs["governance"])
    assert "PSN-" not in packs["clinician"]


def test_commissioners_see_no_patient_and_are_told_of_suppression(packs):
    html = packs["commissioner"]
    assert not LOCAL_ID.search(html) and "PSN-" not in html
    assert Disclosure.from_settings(load_settings()).statement in html
    assert "Action:" not in html


@pytest.fixture(scope="module")
def workbooks(sample_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("workbooks")
    books = {}
    for role in ("governance", "commissioner"):
        path = out / f"{role}.xlsx"
        write_pack(sample_db, role, path)
        books[role] = openpyxl.load_workbook(path)
    return books


def sheet_rows(sheet) -> list[dict]:
    header, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.mark.slow
def test_the_commissioner_workbook_has_no_small_count_and_no_patient(workbooks, json_figures):
    book = workbooks["commissioner"]
    figures = expected("commissioner", json_figures)
    counts = 0
    for sheet in book.worksheets:
        rows = sheet_rows(sheet)
        assert not {"patient", "patient_id"} & set(rows[0] if rows else {}), sheet.title
        for row in rows:
            if row.get("unit") == "count":
                counts += 1
                assert not (isinstance(row["value"], (int, float)) and 1 <= row["value"] <= 7), (
                    sheet.title,
                    row,
                )
                # a suppressed count: no number in the value column, "*" beside it
                assert (row["value"] if row["value"] is not None else row["shown"]) == figures[
                    row["figure"]
                ], row
    assert counts > 50
    assert SUPPRESSED in [
        row["shown"] for s in book.worksheets for row in sheet_rows(s) if "shown" in row
    ]
    about = {row["item"]: row["value"] for row in sheet_rows(book["About"])}
    assert about["Role"] == "commissioner"
    assert "Definitions" in book.sheetnames


def test_the_governance_workbook_lists_patients_by_pseudonym(workbooks, overdue):
    book = workbooks["governance"]
    listed = [row["patient"] for row in sheet_rows(book["Refills overdue"])]
    assert len(listed) == overdue.height
    assert all(patient.startswith("PSN-") for patient in listed)
    assert "Batteries due" in book.sheetnames


def comparison_cells(sheet) -> dict[tuple[str, str], dict]:
    """(key, compared with) -> {column: (value, number format)} of the Comparisons sheet."""
    header = [c.value for c in sheet[1]]
    return {
        (row[0].value, row[2].value): {
            name: (c.value, c.number_format) for name, c in zip(header, row, strict=True)
        }
        for row in sheet.iter_rows(min_row=2)
    }


def test_the_comparisons_sheet_holds_numbers_in_each_row_s_format(workbooks, json_figures):
    rows = comparison_cells(workbooks["governance"]["Comparisons"])
    previous = next(k for k in rows if k[0] == "waits.rate_within_target")[1]
    rate = rows[("waits.rate_within_target", previous)]
    assert rate["this period"] == (json_figures["waits"]["rate_within_target"], "0.0%")
    assert rate["this period shown"][0] == fmt(
        json_figures["waits"]["rate_within_target"], "percent"
    )
    low, high = rate["change 95% CI low"], rate["change 95% CI high"]
    assert isinstance(low[0], float) and isinstance(high[0], float) and low[0] < high[0]
    assert {rate["change"][1], low[1], high[1]} == {"+0.0%;-0.0%;0.0%"}  # percentage points
    referrals = rows[("activity.referrals_received", previous)]
    assert referrals["this period"] == (json_figures["activity"]["referrals_received"], "#,##0")
    assert isinstance(referrals["then"][0], int) and referrals["change"][1] == "0.00"  # a ratio
    assert referrals["change is"][0].startswith("a ratio of rates")


def test_a_suppressed_comparison_keeps_its_number_columns_numeric(workbooks):
    rows = comparison_cells(workbooks["commissioner"]["Comparisons"])
    suppressed = [r for r in rows.values() if r["this period shown"][0] == SUPPRESSED]
    assert suppressed  # the sample's commissioner pack has some
    for row in rows.values():
        for column in ("this period", "then", "change", "change 95% CI low"):
            assert row[column][0] is None or isinstance(row[column][0], (int, float)), row
    assert all(r["this period"][0] is None for r in suppressed)


@pytest.mark.slow
def test_each_format_follows_the_extension(sample_db, tmp_path):
    # a quarter before any data: the format is the question, not the figures (read elsewhere)
    period = ("--start", "1991-01-01", "--end", "1991-03-31")
    for name, magic in (("pack.HTML", b"<!DOCTYPE html>"), ("pack.xlsx", b"PK")):
        path = tmp_path / name
        result = cli("report", "--db", str(sample_db), *period, "--out", str(path))
        assert result.exit_code == 0, result.output
        assert path.read_bytes().startswith(magic)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--out", "pack.txt"], ".html, .pdf or .xlsx"),
        (["--out", "pack.html", "--role", "data_manager"], "clinician, governance, commissioner"),
        (["--out", "pack.html", "--start", "2026-12-01"], "is after"),
    ],
)
def test_bad_arguments_exit_2(sample_db, tmp_path, args, message):
    options = {"--start": START, "--end": END, "--db": str(sample_db)}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        options[flag] = str(tmp_path / value) if flag == "--out" else value
    result = cli("report", *[part for item in options.items() for part in item])
    assert result.exit_code == 2
    assert message in " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())  # rich's box


@pytest.mark.slow
def test_a_pdf_without_chromium_exits_2_and_writes_nothing(sample_db, tmp_path, monkeypatch):
    monkeypatch.setattr("pipelines.report.pdf.CHROMIUM", tmp_path / "no-chromium")
    built = []
    monkeypatch.setattr(_Builder, "report", lambda self: built.append(1))
    out = tmp_path / "pack.pdf"
    result = cli(
        "report", "--db", str(sample_db), "--start", START, "--end", END, "--out", str(out)
    )
    assert result.exit_code == 2
    assert "chromium" in result.output and not out.exists()
    assert not built  # refused before the pack is built, not after


@pytest.mark.parametrize(
    "start, end, site, condition",
    [
        ("1991-01-01", "1991-03-31", None, None),  # before any data
        ("2026-04-03", "2026-04-20", None, None),  # no whole month
        (START, END, "nowhere", None),  # a site with no load
        (START, END, None, "multiple_sclerosis"),
    ],
)
@pytest.mark.slow
def test_a_pack_for_little_or_no_data(sample_db, start, end, site, condition):
    request = Request(
        sample_db,
        dt.date.fromisoformat(start),
        dt.date.fromisoformat(end),
        site,
        condition,
        Role.GOVERNANCE,
        load_settings(),
    )
    report = build(request)
    assert report.figures["period"]["site"] == site
    assert pack_bytes(report, "xlsx").startswith(b"PK")


def test_roles_without_figure_pages_get_no_pack(sample_db):
    with pytest.raises(PermissionError):
        build(
            Request(
                sample_db,
                dt.date(2026, 1, 1),
                dt.date(2026, 3, 31),
                role=Role.DATA_MANAGER,
                settings=load_settings(),
            )
        )


PAGE = """
import datetime as dt
import streamlit as st
import dashboard.auth
from dashboard.filters import Filters
from dashboard.report_button import report_downloads
from pipelines.access.roles import Role

# No sign-in on this bare page: its access-log recorder records nothing.
dashboard.auth.recorder = lambda settings: (lambda event, **detail: None)
st.session_state["filters"] = Filters(dt.date(2025, 11, 2), dt.date(2026, 11, 1))
report_downloads(Role.COMMISSIONER)  # the signed-in role, as the Overview passes it
"""


@pytest.mark.slow
def test_the_overview_button_builds_nothing_until_clicked_and_never_imports_gx(sample_db):
    """In a fresh process, as the dashboard would: the page draws the buttons without building
    a pack (building one here would exit) and without importing Great Expectations."""
    code = f"""
import json, sys
import pipelines.report
from streamlit.testing.v1 import AppTest

pipelines.report.build = lambda request: sys.exit("a pack was built while the page drew")
at = AppTest.from_string({PAGE!r}, default_timeout=60).run()
assert not at.exception, at.exception
print(json.dumps({{"labels": [b.label for b in at.download_button],
                  "caption": at.caption[0].value,
                  "gx": any(m.startswith("great_expectations") for m in sys.modules)}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "ITB_AUDIT_DB": str(sample_db)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"HTML", "Excel"} <= set(shown["labels"])
    assert "commissioner pack" in shown["caption"] and not shown["gx"]


@pytest.mark.slow
def test_a_pack_of_two_sites_with_missing_dates(tmp_path):
    """Pumps never refilled (no latest refill date) at two sites with the same ids: both are
    listed, each under its own site's pseudonym."""
    w = Warehouse(tmp_path / "w.duckdb")
    for site in ("north", "south"):
        w.add(
            "implants",
            site=site,
            implant_id="I1",
            patient_id="P1",
            implant_date="2016-06-01",
            first_refill_due_date="2016-08-01",
        )
    w.close()
    request = Request(w.path, START_2024, END_2024, role=Role.GOVERNANCE, settings=load_settings())
    html = report_bytes(request, "html").decode()
    key = resolve_key()
    for site in ("north", "south"):
        assert display_id(Role.GOVERNANCE, site, "patient_id", "P1", key) in html
    assert "Action: pumps overdue for a refill at 31 Dec 2024 (2)" in html


@pytest.mark.parametrize(
    "value, column, shown",
    [
        (None, "days", "—"),
        (float("nan"), "days", "—"),
        (pd.NA, "days", "—"),
        (pd.NaT, "day", "—"),
        (0.25, "rate_ci_low", "25.0%"),
        (1234, "rows_read", "1,234"),
        (2.5, "median_days", "2.5"),
        (2501 / 2502, "pass_rate", "99.96%"),
        (-1.0, "mean_change", "-1.00"),
        (pd.Timestamp("2026-01-02"), "due", "2 Jan 2026"),
        (31.0, "days_overdue", "31"),
        (27.5, "median_wait_days", "27.5"),
        (31.0, "median_days", "31"),
        (dt.datetime(2026, 1, 2, 6, 41), "loaded_at", "2 Jan 2026 06:41"),
        (True, "is_current", "yes"),
        (841.0, "daily_dose_mcg", "841"),
        (29.0, "battery_explants", "29"),
        (0.25, "volume_ml", "0.25"),
    ],
)
def test_table_cells(value, column, shown):
    assert cell(value, column) == shown


@pytest.mark.parametrize(
    "value, unit, shown",
    [
        (SUPPRESSED, "percent", "*"),
        (None, "count", "—"),
        (0.7647, "percent", "76.5%"),
        (1234, "count", "1,234"),
        (0.5, "change", "+0.50"),
        (12.57, "per_100_pump_years", "12.6"),
        # whole days as integers; a median of an even count keeps its half day
        (31.0, "days", "31"),
        (31, "days", "31"),
        (27.5, "days", "27.5"),
        (1234.0, "days", "1,234"),
        # Only 1 reads 100% and only 0 reads 0%: 2,501 of 2,502 passed is 99.96%, not 100.0%
        (2501 / 2502, "percent", "99.96%"),
        (1.0, "percent", "100.0%"),
        (0.0, "percent", "0.0%"),
        (99_999 / 100_000, "percent", "99.999%"),
        (999_999 / 1_000_000, "percent", "<100%"),
        (1 / 20_000, "percent", "0.01%"),
        (1 / 3_000_000, "percent", ">0%"),
    ],
)
def test_figures_as_shown(value, unit, shown):
    assert fmt(value, unit) == shown


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_each_standard_is_judged_beside_its_figure_in_words_and_a_symbol(packs, json_figures, role):
    """In the Standards section and beside the figure wherever the pack shows it (the Summary
    and the figure's own section): the JSON's status, with a symbol and words, not colour alone."""
    figures = expected(role, json_figures)
    html = packs[role]
    for name in json_figures["standards"]:
        status = figures[f"standards.{name}.status"]
        symbol, words = VERDICTS[status]
        cells = re.findall(
            rf'<(?:span|td) class="verdict [a-z_]+" '
            rf'data-kpi="standards\.{name}\.status" data-value="([^"]*)">([^<]*)<',
            html,
        )
        # the Standards table, and beside the figure in the Summary and its section at least
        assert len(cells) >= 3, (name, cells)
        for value, text in cells:
            assert json.loads(value.replace("&#34;", '"').replace("&quot;", '"')) == status
            assert text.startswith(f"{symbol} {words}"), text
    if role == "commissioner":  # the sample's 1 overdue pump is *: its standard is not judged
        assert figures["standards.no_pump_overdue.status"] == SUPPRESSED


@pytest.mark.slow
def test_the_pack_shows_the_outcomes_due_for_review_first(packs, json_figures):
    titles = re.findall(r"<caption>([^<]*)</caption>", packs["governance"])
    twelve = titles.index(
        "12-month outcomes reported in the period (one-year review due in the period)"
    )
    assert twelve < titles.index("Patients first implanted in the period: baseline and 12 months")
    shown = dict(Page(packs["governance"]).figures)
    assert (
        shown["outcomes_12m.mas.patients_due"]
        == json_figures["outcomes_12m"]["mas"]["patients_due"]
        > 0
    )


@pytest.mark.slow
@pytest.mark.parametrize("role", [Role.GOVERNANCE, Role.COMMISSIONER])
def test_the_pack_compares_each_summary_figure_with_earlier_periods(sample_db, role):
    """A quarter: the quarter before and the same quarter a year earlier, each verdict the one
    of pipelines.figures.comparisons on the figures this role sees."""
    start, end = dt.date(2026, 7, 1), dt.date(2026, 9, 30)
    settings = load_settings()
    report = build(Request(sample_db, start, end, role=role, settings=settings))
    (section,) = [s for s in report.sections if s.id == "comparisons"]
    frame = section.blocks[0].frame
    keys = list(OVERVIEW.headlines)
    assert list(frame["compared with"]) == (
        ["Last period (1 Apr 2026 to 30 Jun 2026)"] * len(keys)
        + ["A year earlier (1 Jul 2025 to 30 Sep 2025)"] * len(keys)
    )

    @functools.cache  # each period's figures are read twice below
    def exact(a, b):
        return compute_kpis(sample_db, a, b, settings=settings)

    def shown(figures):
        return (
            suppress_kpis(figures, Disclosure.from_settings(settings))
            if role is Role.COMMISSIONER
            else figures
        )

    now = exact(start, end)
    expected = [
        c.verdict
        for a, b, against in [
            (dt.date(2026, 4, 1), dt.date(2026, 6, 30), "previous"),
            (dt.date(2025, 7, 1), dt.date(2025, 9, 30), "year_earlier"),
        ]
        for c in compare(
            now,
            exact(a, b),
            keys,
            92,
            (b - a).days + 1,
            against,
            (shown(now), shown(exact(a, b))) if role is Role.COMMISSIONER else None,
        ).values()
    ]
    assert list(frame["verdict"]) == expected
    if role is Role.COMMISSIONER:
        assert "not compared: a figure is suppressed" in expected


@pytest.mark.slow
@pytest.mark.parametrize("role", [Role.GOVERNANCE, Role.COMMISSIONER])
def test_the_summary_lists_exactly_the_changes_beyond_chance(sample_db, role):
    """The first half of 2026 against the half before and a year earlier: the sample's wait and
    refill rates moved beyond chance (the commissioner's wait rate is *, so not compared)."""
    report = build(Request(sample_db, dt.date(2026, 1, 1), dt.date(2026, 6, 30), role=role))
    sections = {s.id: s for s in report.sections}
    compared = sections["comparisons"].blocks[0].frame
    (changes,) = [
        b.frame for b in sections["summary"].blocks if b.title == SUMMARY.tables["changes"].title
    ]
    beyond = compared[compared["verdict"].str.startswith(("higher than", "lower than"))]
    columns = ["figure", "compared with", "this period", "then", "verdict"]
    # figure by figure in the summary, period by period in the comparisons table
    assert sorted(changes[columns].values.tolist()) == sorted(beyond[columns].values.tolist())
    assert changes["figure"].tolist() == (
        ["Seen within the wait target", "Refills on time"]
        if role is Role.GOVERNANCE
        else ["Refills on time"]
    )
    # with its interval where the role sees exact figures; the shown change alone where not
    assert changes["change"].tolist() == (
        ["+58.9 pts (95% CI +9.3 to +81.7 pts)", "-8.9 pts (95% CI -16.0 to -1.6 pts)"]
        if role is Role.GOVERNANCE
        else ["-8.5 pts"]
    )


def test_an_unusable_key_stops_a_governance_pack_with_one_line(sample_db, tmp_path, monkeypatch):
    monkeypatch.setenv("ITB_AUDIT_PSEUDONYM_KEY", "short")
    out = tmp_path / "pack.html"
    period = ("--db", str(sample_db), "--start", START, "--end", END, "--out", str(out))
    result = cli("report", *period, "--role", "governance")
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        "report not written: ITB_AUDIT_PSEUDONYM_KEY is too short (5 characters): a valid key "
        "is at least 16 characters; best, 64 random hex digits (openssl rand -hex 32)"
    ]
    assert not out.exists()
    # A clinician's pack shows local ids and needs no key.
    result = cli("report", *period, "--role", "clinician")
    assert result.exit_code == 0, result.output


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_the_pack_says_which_battery_forecast_each_chart_draws(packs, role):
    html = packs[role]
    assert BATTERIES.charts["nominal"].title in html
    # the observed-life forecast is patient-level (its risk sets are small), as the curves
    assert (BATTERIES.charts["observed"].title in html) == (role != "commissioner")
    if role != "commissioner":
        assert "From the observed service life of SynchroMed II (" in html


@pytest.mark.parametrize(
    "current, earlier, unit, shown",
    [
        (29.0, 38.0, "days", "-9"),
        (29.5, 38.0, "days", "-8.5"),
        (21, 17, "count", "+4"),
        (0.765, 0.529, "percent", "+23.6 pts"),
    ],
)
def test_changes_as_shown(current, earlier, unit, shown):
    assert delta_text(current, earlier, unit) == shown


def test_each_figure_says_its_unit_and_denominator(packs, json_figures):
    """'Complications per 100 pump-years 12.6 (12 events in 95.5 pump-years)': the unit in
    the label or after the value, the numbers it is computed from under the label."""
    html = packs["governance"]
    c = json_figures["complications"]

    def detail(key: str) -> list[str]:
        return re.findall(
            rf'<a href="#def-{re.escape(key)}">[^<]*</a>'
            r'<span class="detail">([^<]*)</span>',
            html,
        )

    assert set(detail("complications.all.rate_per_100_pump_years")) == {
        f"{c['all']['events']} events in {c['pump_years']:.1f} pump-years"
    }
    w = json_figures["waits"]
    assert set(detail("waits.rate_within_target")) == {f"{w['within_target']} of {w['seen']} seen"}
    assert set(detail("waits.median_wait_days")) == {f"of {w['seen']} referrals seen"}
    b = json_figures["battery"]
    assert set(detail("battery.overdue")) == {f"of {b['active_pumps']} active pumps with a battery"}
    # every figure of days, pump-years or a rate per 100 pump-years says so in its label
    rows = re.findall(
        r'<tr><th scope="row">(.*?)</th>\s*<td class="num value"><span '
        r'data-kpi="([^"]+)"',
        html,
    )
    units = {"days", "per_100_pump_years", "pump_years"}
    labelled = [
        (key, re.sub(r"<span.*", "", label)) for label, key in rows if unit_of(key) in units
    ]
    assert len(labelled) >= 6
    for key, label in labelled:
        assert UNIT_NAMES[unit_of(key)] in label.lower(), (key, label)
    # whole days are integers: no "31.0 days" anywhere a figure of days is written
    for key in ("waits.median_wait_days", "waits.mean_wait_days"):
        value = json_figures["waits"][key.split(".")[1]]
        for shown in re.findall(rf'data-kpi="{key}" data-value="[^"]*">([^<]*)<', html):
            assert shown == fmt(value, "days") and not shown.endswith(".0"), (key, shown)


def test_a_denominator_that_is_suppressed_or_undefined_is_written_as_the_pack_writes_it():
    key = "complications.all.rate_per_100_pump_years"
    figures = {"complications": {"pump_years": None, "all": {"events": SUPPRESSED}}}
    assert detail_text(figures, key, FIGURES[key].detail) == "* events in — pump-years"
    assert detail_text(figures, "complications.pump_years", "") is None


@pytest.mark.parametrize("role", ROLES)
def test_the_pack_spells_out_every_abbreviation(packs, role):
    html = packs[role]
    glossary = dict(re.findall(r"<dt><abbr>([^<]+)</abbr></dt><dd>([^<]+)</dd>", html))
    assert {"ERI", "DNA", "CSF", "PSN", "SPC", "CI", "ITB", "MAS", "GAS", "NRS"} <= set(glossary)
    assert glossary["ERI"].startswith("Elective replacement indicator")
    assert glossary["DNA"].startswith("Did not attend")
    assert '<a href="#glossary">Abbreviations</a>' in html  # in the contents


@pytest.mark.slow
def test_the_workbook_keeps_numbers_numeric_in_their_formats(workbooks, json_figures):
    """Rates as percentages of the exact proportion, dates without a time, whole days as
    integers, columns sized to their text, and no "*" in a column of numbers (it is in `shown`)."""
    book = workbooks["governance"]
    waits = {row[0].value: row for row in book["Referrals and waits"].iter_rows(min_row=2)}
    rate = waits["waits.rate_within_target"]
    header = [c.value for c in book["Referrals and waits"][1]]
    value, low, high = (rate[header.index(name)] for name in ("value", "95% CI low", "95% CI high"))
    assert value.value == json_figures["waits"]["rate_within_target"]
    assert {value.number_format, low.number_format, high.number_format} == {"0.0%"}
    assert rate[header.index("shown")].value == fmt(value.value, "percent")
    median = waits["waits.median_wait_days"][header.index("value")]
    assert median.number_format == ("#,##0" if float(median.value).is_integer() else "#,##0.0")
    overdue = book["Refills overdue"]
    dates = [
        c for row in overdue.iter_rows(min_row=2) for c in row if isinstance(c.value, dt.datetime)
    ]
    assert dates and all(
        c.number_format == "d mmm yyyy" and c.value.time() == dt.time(0) for c in dates
    )
    loaded = book["Load history"]["C"][1]  # finished_at: a time of day, so it is shown
    assert loaded.number_format == "d mmm yyyy hh:mm"
    for sheet in book.worksheets:  # each column as wide as its longest text (up to 60)
        for column in sheet.iter_cols(max_col=sheet.max_column):
            longest = max((len(c.value) for c in column if isinstance(c.value, str)), default=0)
            (width,) = [
                d.width
                for d in sheet.column_dimensions.values()  # ranges of columns
                if d.min <= column[0].column <= d.max
            ]
            assert width >= min(longest, 58), (sheet.title, column[0].value, width)
    for role, book in workbooks.items():
        for sheet in book.worksheets:
            if sheet.title in ("About", "Settings"):  # item and value as words, as in the toml
                continue
            rows = sheet_rows(sheet)
            for column in ("value", "95% CI low", "95% CI high"):
                texts = [r[column] for r in rows if column in r and isinstance(r[column], str)]
                assert not texts, (role, sheet.title, column, texts[:3])
    assert "Abbreviations" in book.sheetnames
