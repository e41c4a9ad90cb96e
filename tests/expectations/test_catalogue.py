"""expectations/README.md is the readable list of every expectation: it must match the suites."""

from pathlib import Path

from expectations.suites import catalogue, cross_suite, row_suite
from pipelines.contract import TABLES

README = Path(__file__).resolve().parents[2] / "expectations" / "README.md"


def test_readme_lists_exactly_the_suites():
    assert README.read_text(encoding="utf-8") == catalogue(), "run: python -m expectations.suites"


def test_every_required_column_has_a_not_null_expectation():
    for spec in TABLES.values():
        checked = {
            e.column
            for e in row_suite(spec).expectations
            if e.expectation_type == "expect_column_values_to_not_be_null"
            and e.row_condition is None
        }
        wanted = {c.name for c in spec.columns if c.required and not c.blank_means}
        assert wanted == checked, spec.name


def test_every_reference_has_unknown_and_quarantined_parent_checks():
    for spec in TABLES.values():
        if not spec.event_date:
            continue
        reasons = {
            (e.meta["column"], e.meta["reason_code"]) for e in cross_suite(spec).expectations
        }
        for c in spec.columns:
            if c.references:
                assert {(c.name, "unknown_reference"), (c.name, "quarantined_parent")} <= reasons
