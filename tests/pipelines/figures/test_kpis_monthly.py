"""Monthly series: each mart runs once for every month of the series (a list of periods), and
each month's figures equal the figures of a period of that month alone, on edge days and on the
sample."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pipelines.config import Settings
from pipelines.figures import queries
from pipelines.figures.disclosure import SUPPRESSED, Disclosure, suppress_section
from pipelines.figures.kpis import (
    Scope,
    compute_kpis,
    monthly_figures,
    rounded,
    section_figures,
    whole_months,
)
from pipelines.warehouse import connect_readonly, sql_text
from tests.fixtures.kpi_fixtures import Warehouse

D = dt.date.fromisoformat
# The sections drawn by month (Overview sparklines, p-charts), and battery, whose mart is shared.
SERIES = ("waits", "refills", "activity", "complications", "battery")
# What a monthly series leaves out of its section's figures (kpis.MONTHLY).
LEFT_OUT = {"refills": {"overdue_now"}}
SETTINGS = Settings(battery_months={"test six": 6})


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    """Records on the first and last days of months, so that a row in the wrong month shows."""
    w = Warehouse(tmp_path_factory.mktemp("monthly") / "w.duckdb")
    # Waits: seen on a month's last day, on the next month's first day; one open across months;
    # one whose patient dies on 2024-02-29 (open at January's end, not at February's).
    w.add("referrals", referral_id="R1", patient_id="P1", received_date="2023-12-20")
    w.add(
        "appointments",
        appointment_id="A1",
        referral_id="R1",
        patient_id="P1",
        appointment_date="2024-01-31",
    )
    w.add("referrals", referral_id="R2", patient_id="P2", received_date="2024-01-31")
    w.add(
        "appointments",
        appointment_id="A2",
        referral_id="R2",
        patient_id="P2",
        appointment_date="2024-03-01",
        status="dna",
    )
    w.add(
        "appointments",
        appointment_id="A3",
        referral_id="R2",
        patient_id="P2",
        appointment_date="2024-04-01",
    )
    w.add("patients", patient_id="P3", date_of_death="2024-02-29")
    w.add("referrals", referral_id="R3", patient_id="P3", received_date="2023-11-01")
    # Pumps: one explanted on 2024-03-01 (exposure ends then), one implanted on 2024-02-29 with
    # a 6-month battery (ERI 2024-08-29 falls due inside the series), one with a reported ERI
    # from a refill on 2024-03-31.
    w.add(
        "implants",
        implant_id="I1",
        patient_id="P1",
        implant_date="2022-05-01",
        explant_date="2024-03-01",
        explant_reason="battery_end_of_life",
        first_refill_due_date="2022-08-01",
    )
    w.add(
        "implants",
        implant_id="I2",
        patient_id="P2",
        implant_date="2024-02-29",
        pump_model="Test Six",
        first_refill_due_date="2024-03-31",
    )
    w.add(
        "implants",
        implant_id="I3",
        patient_id="P4",
        implant_date="2023-06-01",
        first_refill_due_date="2023-09-01",
    )
    # Refills: two on one day (the later refill_id sets the due date), one on a month's last day.
    w.add(
        "refills",
        refill_id="F1",
        implant_id="I1",
        patient_id="P1",
        refill_date="2024-01-31",
        next_due_date="2024-02-15",
    )
    w.add(
        "refills",
        refill_id="F2",
        implant_id="I3",
        patient_id="P4",
        refill_date="2024-02-01",
        next_due_date="2024-02-20",
    )
    w.add(
        "refills",
        refill_id="F3",
        implant_id="I3",
        patient_id="P4",
        refill_date="2024-02-01",
        next_due_date="2024-05-01",
    )
    w.add(
        "refills",
        refill_id="F4",
        implant_id="I3",
        patient_id="P4",
        refill_date="2024-03-31",
        next_due_date="2024-04-30",
        reported_eri_date="2024-06-30",
    )
    w.add("refills", refill_id="F5", implant_id="I2", patient_id="P2", refill_date="2024-04-01")
    # Complications: one on an explant day (counted), one the day after (outside exposure).
    w.add(
        "complications",
        complication_id="C1",
        patient_id="P1",
        implant_id="I1",
        event_date="2024-03-01",
        category="infection",
    )
    w.add("complications", complication_id="C2", patient_id="P1", event_date="2024-03-02")
    w.add("trials", trial_id="T1", patient_id="P4", trial_date="2024-01-01")
    # Another site, and another condition.
    w.add("patients", site="south", patient_id="S1", primary_condition="cerebral_palsy")
    w.add("referrals", site="south", referral_id="R1", patient_id="S1", received_date="2024-02-01")
    yield w
    w.close()


def drawn(section: str, figures: dict) -> dict:
    """The figures of a section that its monthly series gives."""
    return {k: v for k, v in figures.items() if k not in LEFT_OUT.get(section, ())}


def assert_series_equals_each_month(con, scope: Scope, sections=SERIES) -> int:
    months = whole_months(scope.start, scope.end)
    series = {section: monthly_figures(con, scope, section) for section in sections}
    for section in sections:
        assert [first for first, _ in series[section]] == [first for first, _ in months]
    for i, (first, last) in enumerate(months):
        month = Scope(first, last, scope.site, scope.settings, scope.condition)
        # the month alone: every section's figures at once (each mart runs once for them)
        alone = section_figures(con, month, sections)
        for section in sections:
            figures = series[section][i][1]
            assert rounded(figures) == rounded(drawn(section, alone[section])), (section, first)
    return len(months)


def test_each_month_of_the_series_is_that_month_alone(wh):
    scope = Scope(D("2023-12-15"), D("2024-09-30"), None, SETTINGS)
    assert assert_series_equals_each_month(wh.con, scope) == 9  # January to September 2024
    series = dict(monthly_figures(wh.con, scope, "waits"))
    assert series[D("2024-01-01")]["seen"] == 1 and series[D("2024-01-01")]["open"] == 2
    assert series[D("2024-02-01")]["open"] == 2  # R2, south's R1; R3's patient died 2024-02-29
    pumps = scope.run_periods(wh.con, "active_pumps", whole_months(scope.start, scope.end))
    assert pumps[D("2024-02-01")]["overdue_now"].sum() == 1  # I1: F1's due date 2024-02-15
    assert pumps[D("2024-03-01")]["overdue_now"].sum() == 0  # I1 explanted; I3 due 2024-04-30
    battery = dict(monthly_figures(wh.con, scope, "battery"))
    assert battery[D("2024-03-01")]["active_pumps"] == 2
    assert battery[D("2024-07-01")]["overdue"] == 1  # I3's reported ERI 2024-06-30
    assert battery[D("2024-08-01")]["overdue"] == 2  # and I2's 6-month battery, 2024-08-29


def test_the_series_equals_compute_kpis_for_each_month(wh):
    scope = Scope(D("2024-01-01"), D("2024-04-30"), None, SETTINGS)
    months = whole_months(scope.start, scope.end)
    # each month's figures once, every section's in them
    alone = {first: compute_kpis(wh.con, first, last, settings=SETTINGS) for first, last in months}
    for section in SERIES:
        series = monthly_figures(wh.con, scope, section)
        assert [first for first, _ in series] == list(alone)
        for first, figures in series:
            assert rounded(figures) == drawn(section, alone[first][section])


def test_the_series_by_site_and_condition(wh):
    for site, condition in (("south", None), ("main", None), (None, "cerebral_palsy")):
        scope = Scope(D("2024-01-01"), D("2024-04-30"), site, SETTINGS, condition)
        assert_series_equals_each_month(wh.con, scope)


def test_each_mart_runs_once_for_the_whole_series(wh, monkeypatch):
    ran = []
    real = queries.run_query

    def counting(con, name, *args, **params):
        ran.append(name)
        return real(con, name, *args, **params)

    monkeypatch.setattr("pipelines.figures.kpis.run_query", counting)
    scope = Scope(D("2014-01-01"), D("2024-12-31"), None, SETTINGS)  # 132 months
    # The refills series does not run active_pumps at every month's end (it has no overdue_now).
    marts = {
        "waits": ["waits"],
        "refills": ["refills"],
        "activity": ["activity"],
        "complications": ["complication_events", "complication_exposure"],
    }
    for section, expected in marts.items():
        ran.clear()
        assert len(monthly_figures(wh.con, scope, section)) == 132
        assert sorted(ran) == [f"marts/{m}" for m in expected]


def test_period_days_are_the_days_in_the_period(wh):
    """period_days, which the marts join rows to periods by, holds exactly the days in_period
    holds: both ends, 29 February, a one-day period, and a day of two overlapping periods."""
    periods = [
        (D("2024-02-01"), D("2024-02-29")),
        (D("2024-02-29"), D("2024-02-29")),
        (D("2024-01-31"), D("2024-03-01")),
    ]
    with wh.con.cursor() as cur:
        cur.execute(sql_text(queries.MACROS))
        listed = cur.execute(
            "select period_start, period_end, period_day from period_days($starts, $ends)",
            {"starts": [s for s, _ in periods], "ends": [e for _, e in periods]},
        ).fetchall()
        candidates = [D("2024-01-30") + dt.timedelta(days=n) for n in range(34)]
        in_period = [
            (s, e, d)
            for s, e in periods
            for d in candidates
            if cur.execute("select in_period(?, ?, ?)", [d, s, e]).fetchone()[0]
        ]
    assert sorted(listed) == sorted(in_period)
    assert len(listed) == 29 + 1 + 31


def test_a_date_in_overlapping_periods_counts_in_each(wh):
    """A list of periods need not be months: rows in a year and in a month of it are in both."""
    scope = Scope(D("2024-01-01"), D("2024-12-31"), None, SETTINGS)
    periods = [(D("2024-01-01"), D("2024-12-31")), (D("2024-02-01"), D("2024-02-29"))]
    for mart in ("activity", "refills", "complication_events"):
        rows = scope.run_periods(wh.con, mart, periods)
        for first, last in periods:
            alone = Scope(first, last, None, SETTINGS).run(wh.con, mart)
            assert rows[first].sort(alone.columns).equals(alone.sort(alone.columns)), mart


def plan_operators(con, mart: str, params: dict) -> list[str]:
    """The operators of DuckDB's plan for a mart (joins with their type: 'HASH_JOIN:INNER')."""
    sql = sql_text(f"marts/{mart}")
    with con.cursor() as cur:
        cur.execute(sql_text(queries.MACROS))
        (statement,) = cur.extract_statements(sql)
        plan = cur.execute(
            f"explain (format json) {sql}", {k: params[k] for k in statement.named_parameters}
        ).fetchone()[1]

    def walk(node: dict) -> list[str]:
        join_type = node.get("extra_info", {}).get("Join Type")
        name = f"{node['name']}:{join_type}" if join_type else node["name"]
        return [name, *(n for child in node["children"] for n in walk(child))]

    return [name for node in json.loads(plan) for name in walk(node)]


@pytest.mark.parametrize("mart", ["activity", "refills", "complication_events"])
def test_rows_are_joined_to_a_list_of_periods_by_hash_not_by_loop(wh, mart):
    """Rows join 120 months on their date = a period's day (period_days): a nested loop over the
    months was most of these marts' time for a 10-year series (docs/performance.md)."""
    scope = Scope(D("2014-01-01"), D("2023-12-31"), None, SETTINGS)
    operators = plan_operators(wh.con, mart, scope.params(whole_months(scope.start, scope.end)))
    assert "HASH_JOIN:INNER" in operators
    assert not [o for o in operators if o.startswith("NESTED_LOOP_JOIN")]


def test_the_refill_chain_reads_the_history_once(wh):
    """The chain sequences every implant's refills in one pass: no semi-join of the history on
    itself, which DuckDB materialises (2.5x the CPU for 10 years, docs/performance.md)."""
    scope = Scope(D("2014-01-01"), D("2023-12-31"), None, SETTINGS)
    operators = plan_operators(wh.con, "refills", scope.params())
    assert operators.count("WINDOW") == 1
    assert "CTE" not in operators
    assert "HASH_JOIN:SEMI" not in operators


def test_a_mart_without_a_list_of_periods_is_refused(wh):
    scope = Scope(D("2024-01-01"), D("2024-04-30"), None, SETTINGS)
    with pytest.raises(ValueError, match="trials"):
        monthly_figures(wh.con, scope, "trials")


def test_no_whole_month_no_series(wh):
    assert (
        monthly_figures(wh.con, Scope(D("2024-01-02"), D("2024-01-31"), None, SETTINGS), "waits")
        == []
    )


@pytest.mark.slow
def test_every_month_of_the_sample(sample_db):
    with connect_readonly(sample_db) as con:
        scope = Scope(D("2016-01-01"), D("2026-10-31"), None, Settings())
        assert assert_series_equals_each_month(con, scope) == 130


def test_a_suppressed_refills_series(wh):
    """A role whose figures are suppressed sees the refills series too (it has no overdue_now)."""
    scope = Scope(D("2024-01-01"), D("2024-04-30"), None, SETTINGS)
    d = Disclosure.from_settings(SETTINGS)
    series = monthly_figures(wh.con, scope, "refills")
    shown = [suppress_section("refills", figures, d) for _, figures in series]
    # on time, late: (0, 1), (1, 1), (1, 0), (0, 1); a count of 1 to 7 is suppressed
    expected = [(0, SUPPRESSED), (SUPPRESSED, SUPPRESSED), (SUPPRESSED, 0), (0, SUPPRESSED)]
    assert [(f["on_time"], f["late"]) for f in shown] == expected
    assert [f["rate"] for f in shown] == [SUPPRESSED] * 4
    assert "overdue_now" not in shown[0]
