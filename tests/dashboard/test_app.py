"""Every page renders from the warehouse with its charts, every headline figure carries its
definition and equals `itb-audit kpis --json` / `compute_kpis` for the same filters, an empty
warehouse asks for a load on every page, and the dashboard never imports Great Expectations.
Each test signs in as a clinician (tests/dashboard/conftest.py), who sees every figure page."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import subprocess
import sys
from dataclasses import asdict

import duckdb
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from dashboard import widgets
from pipelines.access.roles import PAGES as ROLE_PAGES
from pipelines.access.roles import Role
from pipelines.cli import app as cli
from pipelines.config import load_settings
from pipelines.figures.kpis import compute_kpis
from pipelines.sections.audit import BATTERIES
from pipelines.show.definitions import FIGURES
from pipelines.warehouse import ensure_schema
from tests.conftest import SAMPLE_AS_OF
from tests.dashboard.conftest import APP

# Every page a clinician sees: each figure page and Data quality.
PAGES = list(ROLE_PAGES[Role.CLINICIAN])
# The default period: the 12 months ending on the latest load's as-of date.
AS_OF = dt.date.fromisoformat(SAMPLE_AS_OF)
DEFAULT_START = dt.date(2025, 11, 2)
LABELS = {figure.label: key for key, figure in FIGURES.items()}


@pytest.fixture(scope="module")
def cli_kpis(sample_db):
    """`itb-audit kpis --json` for the default period, all sites and conditions."""
    result = CliRunner().invoke(
        cli,
        [
            "kpis",
            "--db",
            str(sample_db),
            "--start",
            DEFAULT_START.isoformat(),
            "--end",
            AS_OF.isoformat(),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def figure_at(figures: dict, key: str):
    value = figures
    for part in key.split("."):
        value = value[part]
    return value


def shown_number(text: str) -> float | None:
    """A figure as shown ('1,234', '76.5%', '+0.50', '—') as a number (a percentage as a
    fraction)."""
    if text == "—":
        return None
    number = float(text.rstrip("%").replace(",", "").replace("+", ""))
    return number / 100 if text.endswith("%") else number


def assert_headlines_match(at: AppTest, figures: dict) -> int:
    """Every st.metric on the page is a documented figure with its definition as the tooltip, and
    shows the value of `figures` (to the precision shown). Returns how many were checked."""
    settings = asdict(load_settings())
    checked = 0
    for metric in at.metric:
        key = LABELS.get(metric.label)
        assert key, f"{metric.label!r} has no definition in pipelines/show/definitions.py"
        assert metric.help == FIGURES[key].definition.format(**settings), metric.label
        if key.startswith("quality."):
            continue
        expected, shown = figure_at(figures, key), shown_number(metric.value)
        if expected is None:
            assert shown is None, metric.label
        else:
            decimals = {"percent": 3, "change": 2}.get(FIGURES[key].unit, 1)
            assert math.isclose(shown, expected, abs_tol=0.5 * 10**-decimals + 1e-9), (
                metric.label,
                metric.value,
                expected,
            )
        checked += 1
    return checked


def test_figure_labels_are_unique():
    assert len(LABELS) == len(FIGURES)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_charts_and_its_headline_figures_equal_the_cli(app, sample_db, cli_kpis, page):
    at = app(sample_db, page, session="clinician")
    assert not at.exception, [e.value for e in at.exception]
    charts = at.get("plotly_chart")
    assert charts, "no chart"
    for chart in charts:
        spec = json.loads(chart.proto.spec)
        assert spec["data"], "a chart without data"
    assert at.metric, "no headline figure"
    checked = assert_headlines_match(at, cli_kpis)
    assert checked or page == "data_quality"
    # the loads its figures come from, as the JSON's "loads" says
    assert cli_kpis["loads"] == {"main": {"load_id": 1, "as_of": "2026-11-01"}}
    stated = [c.value for c in at.main.caption if "Computed from" in c.value]
    assert stated == [
        ":material/database: Computed from load 1 (site main, extract as of 1 Nov 2026)"
    ]
    # every table has its two downloads (CSV and Excel)
    table_downloads = [b for b in at.download_button if b.key.startswith(("csv-", "xlsx-"))]
    assert at.dataframe and len(table_downloads) == 2 * len(at.dataframe)


@pytest.fixture(scope="module")
def last_quarter_ms(sample_db):
    """The figures of the last quarter for multiple sclerosis."""
    return compute_kpis(
        sample_db, dt.date(2026, 7, 1), dt.date(2026, 9, 30), condition="multiple_sclerosis"
    )


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_filters_are_shared_and_every_figure_follows_them(app, sample_db, last_quarter_ms, page):
    # chosen on the page the session is on (the Overview, after signing in, for the first)
    at = app(sample_db, session="last quarter")
    at.sidebar.radio(key="period_pick").set_value("Last quarter")
    at.sidebar.selectbox(key="condition").set_value("multiple_sclerosis")
    at.run()
    at.switch_page(f"views/{page}.py").run()  # the choice carries over to every page
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.radio(key="period_pick").value == "Last quarter"
    assert_headlines_match(at, last_quarter_ms)
    described = [c.value for c in at.main.caption if "Multiple sclerosis" in c.value]
    assert described and "1 Jul 2026 to 30 Sep 2026" in described[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    "period",
    [(dt.date(1991, 1, 1), dt.date(1991, 3, 31)), (dt.date(2026, 4, 3), dt.date(2026, 4, 20))],
    ids=["before any data", "no whole month"],
)
def test_every_page_renders_a_period_with_little_or_no_data(app, sample_db, period):
    at = app(sample_db)
    at.sidebar.radio(key="period_pick").set_value("Custom").run()
    at.sidebar.date_input(key="custom_period").set_value(period).run()
    figures = compute_kpis(sample_db, *period)
    for page in PAGES:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert_headlines_match(at, figures)


@pytest.mark.slow
def test_site_and_financial_year_filters(app, sample_db):
    at = app(sample_db, "waits")
    at.sidebar.radio(key="period_pick").set_value("Financial year").run()
    at.sidebar.selectbox(key="financial_year").set_value("2025/26").run()
    at.sidebar.selectbox(key="site").set_value("main").run()
    assert not at.exception
    assert_headlines_match(
        at, compute_kpis(sample_db, dt.date(2025, 4, 1), dt.date(2026, 3, 31), site="main")
    )


@pytest.mark.slow
def test_custom_period(app, sample_db):
    at = app(sample_db, "refills")
    at.sidebar.radio(key="period_pick").set_value("Custom").run()
    at.sidebar.date_input(key="custom_period").set_value(
        (dt.date(2020, 1, 1), dt.date(2024, 12, 31))
    ).run()
    assert not at.exception
    assert_headlines_match(at, compute_kpis(sample_db, dt.date(2020, 1, 1), dt.date(2024, 12, 31)))


@pytest.mark.slow
def test_data_quality_page_shows_the_sample_load(app, sample_db):
    at = app(sample_db, "data_quality", session="clinician")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sites loaded"] == "1"
    assert metrics["Rows quarantined (current loads)"] == "0"
    assert shown_number(metrics["Rows accepted (current loads)"]) > 1000
    expectations = next(df.value for df in at.dataframe if "rows_checked" in df.value.columns)
    assert (
        expectations["rows_passed"] + expectations["rows_failed"] == expectations["rows_checked"]
    ).all()


@pytest.fixture(scope="module", params=["missing", "no loads"])
def empty_db(request, tmp_path_factory):
    db = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    if request.param == "no loads":
        with duckdb.connect(str(db)) as con:
            ensure_schema(con)
    return db


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_empty_warehouse_asks_for_a_load_on_every_page(app, empty_db, page):
    at = app(empty_db, page, session="clinician")
    assert not at.exception
    assert "Load an extract" in at.info[0].value
    assert "itb-audit load EXTRACT --db" in at.info[0].value


@pytest.mark.slow
def test_dashboard_process_does_not_import_great_expectations(sample_db, accounts):
    username, password = accounts[Role.CLINICIAN]
    code = (
        "import os, sys; from streamlit.testing.v1 import AppTest; "
        "from tests.dashboard.conftest import sign_in; "
        f"os.environ['ITB_AUDIT_DB'] = {str(sample_db)!r}; "
        f"at = sign_in(AppTest.from_file({APP!r}, default_timeout=60).run(), {username!r}, "
        f"{password!r}); "
        "[at.switch_page(f'views/{p}.py').run() for p in "
        f"{PAGES!r}]; "
        "print(any(m.startswith('great_expectations') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "False"


def test_referrals_open_too_long_are_listed_apart_to_validate(
    app, sample_db, tmp_path, monkeypatch
):
    config = tmp_path / "itb-audit.toml"
    config.write_text("[kpis]\nstale_referral_days = 5\n")  # the sample's open: 9 and 3 days
    monkeypatch.setenv("ITB_AUDIT_CONFIG", str(config))
    at = app(sample_db, "waits", session="clinician")
    assert not at.exception, [e.value for e in at.exception]
    waits = compute_kpis(sample_db, dt.date(2025, 11, 2), dt.date(2026, 11, 1))["waits"]
    open_list, to_validate = (t.value for t in at.dataframe if "days_waiting" in t.value.columns)
    # every open referral is in one list or the other, and only the old ones are apart
    assert len(open_list) + len(to_validate) == waits["open"] and len(to_validate) > 0
    assert list(to_validate["days_waiting"]) == [9] and list(open_list["days_waiting"]) == [3]
    assert any("To validate: open longer than 5 days (1)" in m.value for m in at.markdown)


def test_batteries_page_draws_both_forecasts_each_titled_by_its_method(app, sample_db):
    at = app(sample_db, "batteries", session="clinician")
    assert not at.exception, [e.value for e in at.exception]
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert {BATTERIES.charts[c].title for c in ("nominal", "observed")} <= set(titles)
    # the sample's SynchroMed II has enough battery explants; its Prometra II does not
    assert any("SynchroMed II (" in c.value and "Not forecast" in c.value for c in at.caption)
    commissioner = app(sample_db, "batteries", Role.COMMISSIONER)
    shown = [
        json.loads(c.proto.spec)["layout"]["title"]["text"]
        for c in commissioner.get("plotly_chart")
    ]
    # patient-level, as the service-life curves
    assert BATTERIES.charts["observed"].title not in shown


CODE = re.compile(r"[a-z0-9]+(_[a-z0-9]+)+")  # csf_leak, bad_code, gp_ers


@pytest.mark.slow
def test_tables_show_whole_numbers_words_and_blanks_as_a_dash(app, sample_db):
    """Counts and doses read as decimals show without decimals (29, not 29.00), a missing
    value as a dash (not "None"), codes as words (not csf_leak), and the days to a battery's
    ERI as words ("28 days overdue", not -28)."""
    at = app(sample_db, session="clinician")
    codes_seen = decimals = 0
    for page in PAGES:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, page
        for table in at.dataframe:
            assert table.proto.placeholder == "—", page
            frame, config = table.value, json.loads(table.proto.columns)
            for column, settings in config.items():
                fmt = settings.get("type_config", {}).get("format")
                values = frame[column].dropna() if column in frame else []
                if fmt == "%.2f":  # decimals only where some value has them
                    decimals += 1
                    assert not all(float(v).is_integer() for v in values), (page, column)
            for column in set(frame.columns) & widgets.CODE_COLUMNS:
                shown = frame[column].dropna().astype(str)
                codes_seen += len(shown)
                assert not shown.map(lambda v: bool(CODE.fullmatch(v))).any(), (page, column)
        if page == "batteries":
            due = next(t.value for t in at.dataframe if "eri_due" in t.value)
            assert "days_to_eri" not in due
            assert due["eri_due"].str.fullmatch(r"\d+ days? overdue|in \d+ days?|due today").all()
            assert due["eri_due"].str.contains("overdue").any()
    assert codes_seen > 100 and decimals > 0


@pytest.mark.slow
def test_the_load_page_does_not_show_the_servers_file_path(app, sample_db):
    at = app(sample_db, "load", role=Role.DATA_MANAGER)
    shown = " ".join(c.value for c in at.caption) + " ".join(m.value for m in at.markdown)
    assert "warehouse" in shown and str(sample_db.parent) not in shown
