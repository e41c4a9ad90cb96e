"""The pieces under the pages: period quick picks, months, the definitions and the downloads."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pandas as pd
import pytest

from dashboard import data, widgets
from dashboard.filters import add_months, financial_years, last_12_months, last_quarter
from pipelines.config import Settings
from pipelines.contract import COMPLICATION_CATEGORIES
from pipelines.figures.kpis import compute_kpis
from pipelines.sections.audit import published, published_figures
from pipelines.show.definitions import FIGURES, NOTES, PUBLISHED_COMPLICATIONS, label
from tests.fixtures.kpi_fixtures import Warehouse

D = dt.date


@pytest.mark.parametrize(
    "as_of, expected",
    [
        (D(2026, 11, 1), (D(2025, 11, 2), D(2026, 11, 1))),
        (D(2024, 2, 29), (D(2023, 3, 1), D(2024, 2, 29))),  # a year back from 29 Feb is 28 Feb
        (D(2026, 3, 31), (D(2025, 4, 1), D(2026, 3, 31))),
    ],
)
def test_last_12_months(as_of, expected):
    assert last_12_months(as_of) == expected


@pytest.mark.parametrize(
    "as_of, expected",
    [
        (D(2026, 11, 1), (D(2026, 7, 1), D(2026, 9, 30))),
        (D(2026, 9, 30), (D(2026, 7, 1), D(2026, 9, 30))),  # the quarter's last day: that quarter
        (D(2026, 1, 15), (D(2025, 10, 1), D(2025, 12, 31))),
    ],
)
def test_last_quarter(as_of, expected):
    assert last_quarter(as_of) == expected


def test_financial_years_run_april_to_march_and_stop_at_as_of():
    years = financial_years(D(2026, 11, 1), count=3)
    assert years == {
        "2026/27 (to 1 Nov 2026)": (D(2026, 4, 1), D(2026, 11, 1)),
        "2025/26": (D(2025, 4, 1), D(2026, 3, 31)),
        "2024/25": (D(2024, 4, 1), D(2025, 3, 31)),
    }
    assert list(financial_years(D(2026, 3, 31), count=1)) == ["2025/26"]


def test_add_months_clamps_to_month_end():
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2026, 3, 15), -15) == D(2024, 12, 15)


def test_every_figure_definition_names_a_figure_of_the_kpis_json(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    result = compute_kpis(w.con, D(2024, 1, 1), D(2024, 12, 31), settings=Settings())
    w.close()
    for key, figure in FIGURES.items():
        assert figure.label and figure.definition, key
        widgets.text(figure.definition)  # every setting it names exists
        if not key.startswith("quality."):
            group, name = widgets.figure_group(result, key)
            assert name in group, key
    for note in NOTES.values():
        widgets.text(note)
    categories = {c for c, *_ in PUBLISHED_COMPLICATIONS}
    assert categories <= {"all", *COMPLICATION_CATEGORIES}


def test_every_published_figure_names_its_follow_up():
    """Published per-patient figures grow with follow-up: each is labelled with its source's,
    in the chart's hover text and in the table of published figures."""
    for *_, source, follow_up in PUBLISHED_COMPLICATIONS:
        assert re.search(r"\d+ (months|years)", follow_up), source
        if ";" in source:  # two sources: the follow-up of each, by its first author
            for part in source.split(";"):
                assert part.split()[0] in follow_up, (part, follow_up)
    for measure in ("patient_incidence", "per_100_pump_years"):
        hover = published(measure)["source"]
        assert hover.str.contains("(follow-up: ", regex=False).all(), measure
    table = published_figures()
    assert table["follow_up"].tolist() == [row[5] for row in PUBLISHED_COMPLICATIONS]
    assert table["published"].tolist()[4] == "25.0% to 27.0%"


def test_headers_read_as_words_with_units():
    config = widgets.headers(
        pd.DataFrame(
            {"fill_volume_ml": [1.0], "rate_within_target_ci_low": [0.1], "days_late": [3]}
        )
    )
    assert config["fill_volume_ml"]["label"] == "fill volume (mL)"
    assert config["rate_within_target_ci_low"]["label"] == "95% CI low"
    assert config["days_late"] == "days late"


def test_whole_decimals_show_whole_and_codes_as_words():
    config = widgets.headers(
        pd.DataFrame({"daily_dose_mcg": [841.0, None], "mean_wait_days": [2.5, 3.0]})
    )
    assert config["daily_dose_mcg"]["type_config"]["format"] == "%d"
    assert config["mean_wait_days"]["type_config"]["format"] == "%.2f"
    shown = widgets.codes_as_words(
        pd.DataFrame(
            {
                "category": ["csf_leak", "Catheter", None],
                "reason_codes": ["bad_code, out_of_range", "", "missing"],
            }
        )
    )
    assert shown["category"].tolist()[:2] == [label("csf_leak"), "Catheter"]
    assert shown["category"].iloc[2] is None
    assert shown["reason_codes"].tolist() == [
        f"{label('bad_code')}, {label('out_of_range')}",
        "",
        label("missing"),
    ]
    assert "_" not in "".join(shown["reason_codes"])


def mdc_on_a_page(variation: str | None, trial_limits: bool) -> tuple[str, str]:
    """The Making Data Count badge and caption a page draws beside a monthly chart."""
    from streamlit.testing.v1 import AppTest

    def page(variation, trial_limits):
        from dashboard import widgets
        from pipelines.figures.spc import SpcSummary

        widgets.mdc_icons(SpcSummary(variation, None, trial_limits))

    at = AppTest.from_function(page, args=(variation, trial_limits), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    # st.badge is Markdown: ":gray-badge[:material/monitoring: Common cause variation]"
    badge = re.fullmatch(r":\w+-badge\[:material/monitoring: (.+)\]", at.markdown[0].value)
    assert badge, at.markdown[0].value
    return badge.group(1), at.caption[0].value


@pytest.mark.parametrize(
    "variation, trial_limits", [("common_cause", True), ("concern_high", False), (None, False)]
)
def test_the_page_and_the_pack_word_the_variation_icon_alike(variation, trial_limits):
    from pipelines.figures.spc import SpcSummary
    from pipelines.report.content import variation_text

    badge, caption = mdc_on_a_page(variation, trial_limits)
    pack = variation_text(SpcSummary(variation, None, trial_limits))
    assert pack == f"Making Data Count: {badge}. {caption}"


def test_no_whole_month_is_worded_once():
    """The note that stands for a monthly chart of a period with no whole month: one text for
    the pages and the pack."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    written = [
        path.relative_to(root).as_posix()
        for folder in ("dashboard", "pipelines")
        for path in sorted((root / folder).rglob("*.py"))
        if "No whole calendar month" in path.read_text(encoding="utf-8")
    ]
    assert written == ["pipelines/show/display.py"]


def test_at_once_runs_the_calls_together_and_keeps_their_order():
    """The Overview's figures, comparisons and monthly series are computed at once (issue #16)."""
    both_running = threading.Barrier(2, timeout=10)

    def call(value: str) -> str:
        both_running.wait()  # returns only once the other call is running too
        return value

    assert data.at_once(lambda: call("figures"), lambda: call("series")) == ["figures", "series"]
