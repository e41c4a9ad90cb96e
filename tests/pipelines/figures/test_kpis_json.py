"""The JSON of `itb-audit kpis --json`: every key, empty warehouse, sites, settings, CLI, runner."""

import datetime as dt
import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.config import Settings, load_settings
from pipelines.contract import COMPLICATION_CATEGORIES, MEASURES
from pipelines.figures.kpis import Scope, compute_kpis, flatten, whole_months
from pipelines.figures.queries import run_query
from tests.fixtures.kpi_fixtures import END, START, Warehouse


def _ci(*names):
    return {k for n in names for k in (n, f"{n}_ci_low", f"{n}_ci_high")}


COMPLICATION_FIGURES = {"events", "patients"} | _ci("patient_incidence", "rate_per_100_pump_years")
# The keys docs/figures.md lists (more are allowed).
SPEC_KEYS = {
    "period": {"start", "end", "site"},
    "waits": {
        "seen",
        "median_wait_days",
        "mean_wait_days",
        "within_target",
        "open",
        "open_over_target",
    }
    | _ci("rate_within_target"),
    "trials": {"patients", "responders", "non_responders", "inconclusive", "by_condition"}
    | _ci("rate"),
    "complications": {
        "implanted_patients",
        "pump_years",
        "events_outside_exposure",
        "weight_gain_standard_status",
        "all",
        "by_category",
    },
    "refills": {
        "on_time",
        "late",
        "median_days_late",
        "without_due_date",
        "booked_after_alarm",
        "residual_discrepancies",
        "overdue_now",
    }
    | _ci("rate"),
    "battery": {
        "active_pumps",
        "overdue",
        "due_within_182_days",
        "due_within_365_days",
        "by_quarter",
    },
    "activity": {
        "referrals_received",
        "new_assessments_attended",
        "trials",
        "new_implants",
        "replacements",
        "refills",
    }
    | _ci("dna_rate"),
}


OUTCOME_FIGURES = {"patients_paired", "baseline_mean", "followup_mean", "mean_change"}
DEFAULT_STANDARDS = {  # docs/figures.md §8: name -> (figure, direction, target)
    "seen_within_target": ("waits.rate_within_target", "at_least", 0.92),
    "refills_on_time": ("refills.rate", "at_least", 0.95),
    "weight_gain": ("complications.by_category.weight_gain.patient_incidence", "below", 0.01),
    "no_pump_overdue": ("refills.overdue_now", "zero", 0),
}


def assert_spec_keys(result):
    assert set(result) >= set(SPEC_KEYS) | {"outcomes", "outcomes_12m", "standards"}
    for section, keys in SPEC_KEYS.items():
        assert set(result[section]) >= keys, section
    complications = result["complications"]
    assert set(complications["all"]) >= COMPLICATION_FIGURES
    assert list(complications["by_category"]) == list(COMPLICATION_CATEGORIES)
    for figures in complications["by_category"].values():
        assert set(figures) >= COMPLICATION_FIGURES
    assert len(result["battery"]["by_quarter"]) == 8
    for outcomes in ("outcomes", "outcomes_12m"):
        assert list(result[outcomes]) == list(MEASURES), outcomes
        for figures in result[outcomes].values():
            assert set(figures) >= OUTCOME_FIGURES, outcomes
    for name, (figure, direction, target) in DEFAULT_STANDARDS.items():
        standard = result["standards"][name]
        assert set(standard) == {"figure", "direction", "target", "status"}
        assert (standard["figure"], standard["direction"], standard["target"]) == (
            figure,
            direction,
            target,
        )
        assert standard["status"] in {"met", "not_met", "not_shown", "*", None}
    for condition in result["trials"]["by_condition"].values():
        assert set(condition) >= {"responders", "non_responders", "inconclusive"} | _ci("rate")


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory):
    """The same ids at two sites, so a join that forgot `site` would mix them."""
    w = Warehouse(tmp_path_factory.mktemp("sites") / "w.duckdb")
    for site, wait_end, first_due in [
        ("north", "2024-02-11", "2024-03-01"),
        ("south", "2024-02-21", "2024-01-20"),
    ]:
        w.add("referrals", site=site, referral_id="R1", patient_id="P1", received_date="2024-02-01")
        w.add(
            "appointments",
            site=site,
            appointment_id="A1",
            patient_id="P1",
            referral_id="R1",
            appointment_date=wait_end,
        )
        w.add(
            "implants",
            site=site,
            implant_id="I1",
            patient_id="P1",
            implant_date="2023-06-01",
            first_refill_due_date=first_due,
        )
        w.add(
            "refills",
            site=site,
            refill_id="F1",
            patient_id="P1",
            implant_id="I1",
            refill_date="2024-02-01",
            next_due_date="2024-05-01",
        )
        w.add(
            "complications",
            site=site,
            complication_id="C1",
            patient_id="P1",
            event_date="2024-03-01",
            category="infection",
        )
    w.add("referrals", site="south", referral_id="R2", patient_id="P2", received_date="2024-12-01")
    yield w
    w.close()


def test_site_filter(two_sites):
    north = two_sites.kpis(site="north")
    both = two_sites.kpis()
    assert north["period"]["site"] == "north" and both["period"]["site"] is None
    # waits: north 10 days; south 20 days
    assert (north["waits"]["seen"], north["waits"]["median_wait_days"]) == (1, 10.0)
    assert (both["waits"]["seen"], both["waits"]["median_wait_days"]) == (2, 15.0)  # (10 + 20) / 2
    assert (north["waits"]["open"], both["waits"]["open"]) == (0, 1)  # south's R2
    # each site's P1 is its own patient
    assert north["complications"]["implanted_patients"] == 1
    assert both["complications"]["implanted_patients"] == 2
    assert both["complications"]["all"]["patients"] == 2
    # F1 is each site's first refill of its own I1: north due Mar 1 (on time), south due
    # Jan 20 (12 days late)
    assert (north["refills"]["on_time"], north["refills"]["late"]) == (1, 0)
    assert (both["refills"]["on_time"], both["refills"]["late"]) == (1, 1)
    assert both["refills"]["median_days_late"] == 12.0
    assert (north["battery"]["active_pumps"], both["battery"]["active_pumps"]) == (1, 2)
    assert two_sites.kpis(site="nowhere")["waits"]["seen"] == 0


def test_empty_warehouse(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    result = w.kpis()
    w.close()
    assert_spec_keys(result)
    assert result["trials"]["by_condition"] == {}
    # Nothing to judge but the overdue count, which is 0: docs/figures.md's zero standard is met.
    assert {name: s["status"] for name, s in result["standards"].items()} == {
        "seen_within_target": None,
        "refills_on_time": None,
        "weight_gain": None,
        "no_pump_overdue": "met",
    }
    values = flatten({k: v for k, v in result.items() if k != "standards"})
    del values["complications.weight_gain_standard"]  # the setting, shown beside its status
    undefined = re.compile(r"(^|_)(rate|mean|median|incidence|ci|status)(_|$)")
    for key, value in values.items():
        if key.startswith("period."):
            continue
        if undefined.search(key.rsplit(".", 1)[-1]):
            assert value is None, key  # no denominator
        else:
            assert value == 0 and value is not False, key  # counts, and pump_years 0.0


def test_condition_filter_keeps_only_that_conditions_patients(tmp_path):
    """Every mart filters through the one in_scope macro: with a condition, only the patients
    whose primary_condition it is count, in every section, and the CLI passes it on."""
    w = Warehouse(tmp_path / "w.duckdb")
    for patient, condition in [("MS", "multiple_sclerosis"), ("CP", "cerebral_palsy")]:
        w.add("patients", patient_id=patient, primary_condition=condition)
        w.add(
            "referrals", referral_id=f"R{patient}", patient_id=patient, received_date="2024-02-01"
        )
        w.add(
            "appointments",
            appointment_id=f"A{patient}",
            patient_id=patient,
            referral_id=f"R{patient}",
            appointment_date="2024-02-15",
        )
        w.add("trials", trial_id=f"T{patient}", patient_id=patient, trial_date="2024-03-01")
        w.add(
            "implants",
            implant_id=f"I{patient}",
            patient_id=patient,
            implant_date="2024-04-01",
            first_refill_due_date="2024-07-01",
        )
        w.add(
            "refills",
            refill_id=f"F{patient}",
            patient_id=patient,
            implant_id=f"I{patient}",
            refill_date="2024-06-20",
            next_due_date="2024-09-01",
        )
        w.add(
            "complications",
            complication_id=f"C{patient}",
            patient_id=patient,
            event_date="2024-05-01",
            category="infection",
        )
        w.add(
            "outcomes", patient_id=patient, assessment_date="2024-03-15", measure="mas", value=3.0
        )
    w.add("referrals", referral_id="R2", patient_id="CP", received_date="2024-12-01")  # CP open

    both = compute_kpis(w.con, START, END, settings=Settings())
    ms = compute_kpis(w.con, START, END, settings=Settings(), condition="multiple_sclerosis")
    nobody = compute_kpis(w.con, START, END, settings=Settings(), condition="stroke")
    assert ms["period"]["condition"] == "multiple_sclerosis" and "condition" not in both["period"]
    counts = {
        "waits.seen": (2, 1, 0),
        "waits.open": (1, 0, 0),
        "trials.patients": (2, 1, 0),
        "trials.by_condition": (2, 1, 0),
        "complications.implanted_patients": (2, 1, 0),
        "complications.all.events": (2, 1, 0),
        "refills.on_time": (2, 1, 0),
        "refills.overdue_now": (2, 1, 0),
        "battery.active_pumps": (2, 1, 0),
        "activity.referrals_received": (3, 1, 0),
        "activity.new_assessments_attended": (2, 1, 0),
        "activity.trials": (2, 1, 0),
        "activity.new_implants": (2, 1, 0),
        "activity.refills": (2, 1, 0),
    }
    for key, expected in counts.items():
        got = []
        for result in (both, ms, nobody):
            value = result
            for part in key.split("."):
                value = value[part]
            got.append(len(value) if isinstance(value, dict) else value)
        assert tuple(got) == expected, key
    assert list(ms["trials"]["by_condition"]) == ["multiple_sclerosis"]
    # the rows behind the figures: only MS's, in every mart
    scope = Scope(START, END, None, Settings(), condition="multiple_sclerosis")
    for mart in (
        "waits",
        "trials",
        "complication_exposure",
        "complication_events",
        "refills",
        "active_pumps",
        "activity",
        "outcomes",
    ):
        assert set(scope.run(w.con, mart)["patient_id"]) <= {"MS"}, mart

    db = tmp_path / "copy.duckdb"
    (name,) = w.con.execute("select current_database()").fetchone()
    w.con.execute(f"attach '{db}' as copy")
    w.con.execute(f"copy from database {name} to copy")
    w.con.execute("detach copy")
    w.close()
    result = CliRunner().invoke(
        app,
        [
            "kpis",
            "--db",
            str(db),
            "--start",
            str(START),
            "--end",
            str(END),
            "--condition",
            "cerebral_palsy",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["waits"]["open"] == 1  # CP's R2


def test_changing_a_setting_changes_only_its_figures(two_sites, tmp_path):
    config = tmp_path / "itb-audit.toml"
    config.write_text("[kpis]\nwait_target_days = 5\n")
    (tmp_path / "defaults.toml").write_text("[kpis]\n")
    default = flatten(two_sites.kpis(settings=load_settings(tmp_path / "defaults.toml")))
    changed = flatten(two_sites.kpis(settings=load_settings(config)))
    differing = {key for key in default if default[key] != changed[key]}
    # 10- and 20-day waits are within 42 days but not within 5; south's R2 has waited 30 days
    assert differing == {
        "waits.within_target",
        "waits.rate_within_target",
        "waits.rate_within_target_ci_low",
        "waits.rate_within_target_ci_high",
        "waits.open_over_target",
        "standards.seen_within_target.status",
    }
    assert (default["waits.within_target"], changed["waits.within_target"]) == (2, 0)
    # 2 of 2 (Wilson 34.2%..100%) cannot show 92% either way; 0 of 2 (0%..65.8%) falls short
    assert (
        default["standards.seen_within_target.status"],
        changed["standards.seen_within_target.status"],
    ) == ("not_shown", "not_met")
    assert (default["waits.open_over_target"], changed["waits.open_over_target"]) == (0, 1)


def test_cli_json(two_sites, tmp_path):
    db = tmp_path / "copy.duckdb"
    (name,) = two_sites.con.execute("select current_database()").fetchone()
    two_sites.con.execute(f"attach '{db}' as copy")
    two_sites.con.execute(f"copy from database {name} to copy")
    two_sites.con.execute("detach copy")
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "kpis",
            "--db",
            str(db),
            "--start",
            str(START),
            "--end",
            str(END),
            "--site",
            "south",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert_spec_keys(figures)
    assert figures["period"] == {
        "start": "2024-01-01",
        "end": "2024-12-31",
        "as_of": "2024-12-31",
        "site": "south",
    }
    assert figures["waits"]["median_wait_days"] == 20.0

    table = runner.invoke(
        app, ["kpis", "--db", str(db), "--start", "2024-01-01", "--end", "2024-12-31"]
    )
    assert table.exit_code == 0 and "waits.median_wait_days" in table.stdout

    backwards = runner.invoke(
        app, ["kpis", "--db", str(db), "--start", "2024-12-31", "--end", "2024-01-01", "--json"]
    )
    assert backwards.exit_code == 2 and "after --end" in backwards.output
    bad_date = runner.invoke(
        app, ["kpis", "--db", str(db), "--start", "31/12/2024", "--end", "2024-12-31"]
    )
    assert bad_date.exit_code == 2
    missing = runner.invoke(
        app,
        [
            "kpis",
            "--db",
            str(tmp_path / "none.duckdb"),
            "--start",
            "2024-01-01",
            "--end",
            "2024-12-31",
        ],
    )
    assert missing.exit_code == 2


def test_run_query_binds_by_name_on_a_cursor_per_thread(two_sites):
    params = dict(
        period_starts=[START],
        period_ends=[END],
        sites=None,
        condition=None,
        wait_target_days=42,
        stale_referral_days=365,
        unused_setting=1,
    )  # parameters a query does not name are not bound
    with ThreadPoolExecutor(4) as pool:
        tables = list(
            pool.map(lambda _: run_query(two_sites.con, "marts/waits", **params), range(8))
        )
    assert all(t.num_rows == 3 for t in tables)  # 2 seen + south's open R2
    with pytest.raises(TypeError, match="wait_target_days"):
        run_query(
            two_sites.con,
            "marts/waits",
            period_starts=[START],
            period_ends=[END],
            sites=None,
            condition=None,
            stale_referral_days=365,
        )


def test_whole_months_are_the_calendar_months_inside_the_period():
    D = dt.date
    assert whole_months(D(2025, 11, 2), D(2026, 1, 31)) == [
        (D(2025, 12, 1), D(2025, 12, 31)),
        (D(2026, 1, 1), D(2026, 1, 31)),
    ]
    assert whole_months(D(2026, 4, 3), D(2026, 4, 20)) == []
    # A leap year's February ends on the 29th; a period ending on the 28th leaves it out.
    assert whole_months(D(2024, 2, 1), D(2024, 3, 31)) == [
        (D(2024, 2, 1), D(2024, 2, 29)),
        (D(2024, 3, 1), D(2024, 3, 31)),
    ]
    assert whole_months(D(2024, 2, 1), D(2024, 2, 28)) == []
