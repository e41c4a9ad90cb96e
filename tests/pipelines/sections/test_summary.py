"""The one-page summary's rows, hand-computed: every standard's judgement in symbol and words,
only the changes beyond chance, the safety counts as the role sees them, and each site's
freshness with its quarantined share (the edge day: an extract as of the period's last day
covers it; one a day earlier does not)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.figures.comparisons import Comparison
from pipelines.figures.disclosure import SUPPRESSED
from pipelines.sections.audit import SUMMARY
from pipelines.sections.summary import late_extract, summarise

END = dt.date(2026, 11, 1)
LAST = "Last period (2 Nov 2024 to 1 Nov 2025)"
YEAR = "A year earlier (2 Nov 2024 to 1 Nov 2025)"


def figures(overdue=1, booked=4, interval=(0.527, 0.904)) -> dict:
    return {
        "standards": {
            "seen_within_target": {
                "figure": "waits.rate_within_target",
                "direction": "at_least",
                "target": 0.92,
                "status": "not_met",
            },
            "weight_gain": {
                "figure": "complications.by_category.weight_gain.patient_incidence",
                "direction": "below",
                "target": 0.01,
                "status": "met",
            },
            "no_pump_overdue": {
                "figure": "refills.overdue_now",
                "direction": "zero",
                "target": 0,
                "status": "not_met" if overdue != SUPPRESSED else SUPPRESSED,
            },
            # a service's own standard on a condition with no patient: no figure to judge
            "ms_responders": {
                "figure": "trials.by_condition.multiple_sclerosis.rate",
                "direction": "at_least",
                "target": 0.5,
                "status": None,
            },
        },
        "waits": {
            "rate_within_target": 0.765,
            "rate_within_target_ci_low": interval[0],
            "rate_within_target_ci_high": interval[1],
        },
        "complications": {
            "by_category": {
                "weight_gain": {
                    "patient_incidence": 0.0,
                    "patient_incidence_ci_low": 0.0,
                    "patient_incidence_ci_high": 0.0037,
                }
            }
        },
        "trials": {"by_condition": {}},
        "refills": {"overdue_now": overdue, "booked_after_alarm": booked},
        "battery": {"overdue": 1, "active_pumps": 95},
    }


def comparisons() -> dict[str, list[tuple[str, Comparison]]]:
    def c(key, kind, now, then, change, low, high, verdict):
        return Comparison(key, kind, now, then, change, low, high, verdict)

    rate, per_100 = "waits.rate_within_target", "complications.all.rate_per_100_pump_years"
    referrals, median = "activity.referrals_received", "waits.median_wait_days"
    return {
        rate: [
            (LAST, c(rate, "difference", 0.765, 0.5, 0.265, 0.05, 0.45, "higher than last period")),
            (YEAR, c(rate, "difference", 0.765, 0.7, 0.065, -0.1, 0.2, "no evidence of a change")),
        ],
        per_100: [
            (LAST, c(per_100, "ratio", 10.0, 20.0, 0.5, 0.2, 0.9, "lower than last period")),
        ],
        # a suppressed view: the exact verdict on the figures shown, with no interval
        referrals: [
            (LAST, c(referrals, "ratio", 40, 20, 2.0, None, None, "higher than last period"))
        ],
        median: [(LAST, c(median, "change", 27.5, 31, -3.5, None, None, "not tested (a median)"))],
        "refills.rate": [
            (
                LAST,
                c("refills.rate", "difference", SUPPRESSED, 0.8, None, None, None, "not compared"),
            )
        ],
    }


def loads(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["site", "as_of", "finished_at", "rows_read", "rows_quarantined"]
    )


TWO_SITES = loads(
    ("leeds", dt.date(2026, 11, 1), pd.Timestamp("2026-11-02 09:05"), 1000, 3),
    ("york", dt.date(2026, 10, 31), pd.Timestamp("2026-11-03 17:40"), 0, 0),
)


def test_every_standard_is_judged_in_a_symbol_and_words():
    table = summarise(figures(), {}, TWO_SITES, END).tables["standards"]
    assert table.to_dict("records") == [
        {
            "standard": "Seen within the wait target",
            "figure": "76.5%",
            "95% interval": "52.7% to 90.4%",
            "target": "at least 92.0%",
            "judgement": "✘ Standard not met",
        },
        {
            "standard": "Weight gain (patients)",
            "figure": "0.0%",
            "95% interval": "0.0% to 0.4%",
            "target": "under 1.0%",
            "judgement": "✔ Standard met",
        },
        {
            "standard": "No pump overdue for a refill",
            "figure": "1",
            "95% interval": "",
            "target": "must be 0",
            "judgement": "✘ Standard not met",
        },
        {
            "standard": "Ms responders",
            "figure": "—",
            "95% interval": "",
            "target": "at least 50.0%",
            "judgement": "– No figure to judge",
        },
    ]


def test_a_commissioner_sees_a_suppressed_figure_unjudged():
    shown = figures(overdue=SUPPRESSED, booked=SUPPRESSED, interval=(SUPPRESSED, SUPPRESSED))
    summary = summarise(shown, {}, TWO_SITES, END)
    standards = summary.tables["standards"].set_index("standard")
    assert standards.loc["Seen within the wait target", "95% interval"] == "*"
    assert standards.loc["No pump overdue for a refill"].to_dict() == {
        "figure": "*",
        "95% interval": "",
        "target": "must be 0",
        "judgement": "* Not judged: the figure is suppressed",
    }
    assert summary.tables["safety"]["count"].tolist() == ["*", "*", "1"]


def test_only_the_changes_beyond_chance_are_listed():
    table = summarise(figures(), comparisons(), TWO_SITES, END).tables["changes"]
    assert table.to_dict("records") == [
        {
            "figure": "Seen within the wait target",
            "compared with": LAST,
            "this period": "76.5%",
            "then": "50.0%",
            "change": "+26.5 pts (95% CI +5.0 to +45.0 pts)",
            "verdict": "higher than last period",
        },
        {
            "figure": "Complications per 100 pump-years",
            "compared with": LAST,
            "this period": "10.0",
            "then": "20.0",
            "change": "ratio 0.50 (95% CI 0.20 to 0.90)",
            "verdict": "lower than last period",
        },
        {
            "figure": "Referrals received",
            "compared with": LAST,
            "this period": "40",
            "then": "20",
            "change": "+20",
            "verdict": "higher than last period",
        },
    ]


def test_no_change_beyond_chance_is_an_empty_table_with_its_columns():
    table = summarise(figures(), {"refills.rate": []}, TWO_SITES, END).tables["changes"]
    assert table.empty and "verdict" in table.columns


def test_the_safety_lists_counts():
    table = summarise(figures(), {}, TWO_SITES, END).tables["safety"]
    assert table.to_dict("records") == [
        {"safety list": "Overdue for a refill now", "count": "1", "of": ""},
        {"safety list": "Booked past the alarm date", "count": "4", "of": ""},
        {"safety list": "Battery overdue", "count": "1", "of": "of 95 active pumps with a battery"},
    ]


def test_freshness_per_site_and_all_sites_and_the_edge_day():
    summary = summarise(figures(), {}, TWO_SITES, END)
    assert summary.tables["freshness"].to_dict("records") == [
        {
            "data": "Site leeds",
            "extract as of": "1 Nov 2026",
            "latest load": "2 Nov 2026 09:05",
            "rows read": "1,000",
            "rows quarantined": "3 (0.3%)",
        },
        {
            "data": "Site york",
            "extract as of": "31 Oct 2026",
            "latest load": "3 Nov 2026 17:40",
            "rows read": "0",
            "rows quarantined": "0 (—)",
        },
        # the latest load, and the earliest extract (where every site's figures stop)
        {
            "data": "All sites",
            "extract as of": "31 Oct 2026",
            "latest load": "3 Nov 2026 17:40",
            "rows read": "1,000",
            "rows quarantined": "3 (0.3%)",
        },
    ]
    # leeds' extract is as of the period's last day: it covers it; york's stops a day short
    assert summary.alerts == [late_extract("york", dt.date(2026, 10, 31))]
    assert "31 Oct 2026" in summary.alerts[0]


def test_one_site_has_no_all_sites_row_and_no_load_is_said():
    one = summarise(figures(), {}, TWO_SITES.iloc[:1], END)
    assert one.tables["freshness"]["data"].tolist() == ["Site leeds"] and one.alerts == []
    none = summarise(figures(), {}, TWO_SITES.iloc[:0], END)
    assert none.tables["freshness"].empty
    assert none.alerts == ["No load for this site: every figure is empty."]


def test_the_summary_has_a_table_for_each_recipe():
    summary = summarise(figures(), comparisons(), TWO_SITES, END)
    assert list(summary.tables) == list(SUMMARY.tables)
