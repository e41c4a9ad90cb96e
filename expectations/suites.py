"""Great Expectations suites for the clinic extract, built from pipelines/contract.py.

Two suites per table:
  <table>        row rules on the checked frame (pipelines/load/normalise.py): required
                 values, readable dates/numbers/booleans/codes, ranges, keys, NHS number,
                 in-row date orders;
  <table>_cross  rules across tables on the frame joined in DuckDB by the views in
                 queries/checks/: references, pumps, and the birth and death date rules;
plus, for implants, <table>_siblings: rules comparing a row with its sibling rows (pump
overlap), run once the other two suites have said which rows are quarantined.
Every expectation carries meta: `reason_code` (the quarantine reason), `column` (the column the
reason names) and `message` (a template filled from the offending row's raw values).
Warning suites (<table>_warnings) count rows a person should check but that are kept: they run
after the load has written its rows, on the rows of a mart (so that "open" means what the
figures mean by it), and quarantine nothing.
`expectations/README.md` lists every expectation (`python -m expectations.suites` writes it;
tests/expectations/test_catalogue.py keeps it true).
"""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.expectations.row_conditions import Column as Col

from pipelines.contract import (
    BOOLEAN_FALSE,
    BOOLEAN_TRUE,
    CELL_ERRORS,
    DATE_ORDERS,
    HAS_VALUES,
    MEASURE_RANGES,
    TABLES,
    Column,
    Table,
)

# Parent tables a reference column points to whose patient must match the row's patient.
SAME_PATIENT_REFERENCES = ("referral_id", "implant_id")


def _meta(code: str, column: str, message: str, other: str | None = None) -> dict:
    # {value} in the message is the row's raw `column`; {other} is its raw `other` column.
    meta = {"reason_code": code, "column": column, "message": message}
    if other:
        meta["other"] = other
    return meta


# The load's as-of date, as a column of every row frame (pipelines/load/validate.py adds it): GX
# compares two date columns vectorised, but a date column with a bound row by row.
AS_OF_COLUMN = "extract_as_of"


def _read_where_given(name: str, typed: str, meta: dict):
    """Wherever the text is given, its typed column must be present: normalise() types only a
    value of the contract's form (ISO_DATE after the UK rewrite, PLAIN_NUMBER) that is also
    real (no 2021-02-29), so this one vectorised check covers form and calendar. (A regex or
    strftime expectation per row did the same at up to two thirds of a large load's time.)"""
    return gxe.ExpectColumnValuesToNotBeNull(
        column=f"{name}{typed}", row_condition=Col(name).is_not_null(), meta=meta
    )


def _value_rules(c: Column) -> list:
    name = c.name
    rules: list = []
    if c.required and not c.blank_means:
        rules.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column=name, meta=_meta("missing_required", name, f"{name} is missing")
            )
        )
    if c.kind == "date":
        rules.append(
            _read_where_given(
                name,
                "__date",
                _meta(
                    "bad_date", name, f"{name} '{{value}}' is not a date (YYYY-MM-DD or DD/MM/YYYY)"
                ),
            )
        )
        if not c.planned:
            rules.append(
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A=AS_OF_COLUMN,
                    column_B=f"{name}__date",
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                    meta=_meta(
                        "after_as_of",
                        name,
                        f"{name} {{value}} is after the extract's as-of date {{as_of}}",
                    ),
                )
            )
    elif c.kind == "code":
        rules.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=name,
                value_set=list(c.codes),
                meta=_meta(
                    "bad_code", name, f"{name} '{{value}}' is not one of: {', '.join(c.codes)}"
                ),
            )
        )
    elif c.kind == "number":
        rules.append(
            _read_where_given(
                name,
                "__num",
                _meta("bad_number", name, f"{name} '{{value}}' is not a plain decimal number"),
            )
        )
        if c.low is not None or c.high is not None:
            rules.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=f"{name}__num",
                    min_value=c.low,
                    max_value=c.high,
                    strict_min=not c.low_inclusive,
                    strict_max=not c.high_inclusive,
                    meta=_meta(
                        "out_of_range", name, f"{name} {{value}} is outside {_range_text(c)}"
                    ),
                )
            )
        if c.allowed_numbers:
            allowed = " or ".join(f"{v:g}" for v in c.allowed_numbers)
            rules.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=f"{name}__num",
                    value_set=list(c.allowed_numbers),
                    meta=_meta("out_of_range", name, f"{name} {{value}} is not {allowed}"),
                )
            )
    elif c.kind == "boolean":
        rules.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=name,
                value_set=list(BOOLEAN_TRUE + BOOLEAN_FALSE),
                meta=_meta(
                    "bad_boolean", name, f"{name} '{{value}}' is not yes/no, y/n, true/false or 1/0"
                ),
            )
        )
    elif c.kind == "nhs_number":
        # The value is already a pseudonym: messages never carry it.
        rules += [
            gxe.ExpectColumnValuesToBeInSet(
                column=f"{name}__valid",
                value_set=[True],
                meta=_meta(
                    "bad_nhs_number",
                    name,
                    f"{name} is not a valid NHS number (10 digits passing the Modulus 11 check)",
                ),
            ),
            gxe.ExpectColumnValuesToBeUnique(
                column=name,
                meta=_meta(
                    "duplicate_nhs_number", name, f"{name} is shared with another patient row"
                ),
            ),
        ]
    elif c.kind == "postcode":
        rules.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=f"{name}__valid",
                value_set=[True],
                meta=_meta("bad_postcode", name, f"{name} is not a UK postcode"),
            )
        )
    return rules


def _range_text(c: Column) -> str:
    low = "" if c.low is None else f"{'≥' if c.low_inclusive else '>'} {c.low:g}"
    high = "" if c.high is None else f"{'≤' if c.high_inclusive else '<'} {c.high:g}"
    return " and ".join(p for p in (low, high) if p)


def row_suite(spec: Table) -> ExpectationSuite:
    rules: list = [
        gxe.ExpectColumnValuesToBeInSet(
            column=HAS_VALUES,
            value_set=[True],
            meta=_meta("no_values", HAS_VALUES, "no values in any contract column"),
        ),
        gxe.ExpectColumnValuesToBeNull(
            column=CELL_ERRORS,
            meta=_meta("error_cell", CELL_ERRORS, "spreadsheet error cells, not values: {value}"),
        ),
    ]
    for c in spec.columns:
        rules += _value_rules(c)
    key = ", ".join(spec.key)
    duplicate = _meta(
        "duplicate_key", key, f"key ({key}) = ({{value}}) appears on more than one row"
    )
    if len(spec.key) == 1:
        rules.append(gxe.ExpectColumnValuesToBeUnique(column=spec.key[0], meta=duplicate))
    else:
        rules.append(
            gxe.ExpectCompoundColumnsToBeUnique(column_list=list(spec.key), meta=duplicate)
        )
    for table, earlier, later, strict in DATE_ORDERS:
        if table == spec.name:
            word = "after" if strict else "on or after"
            rules.append(
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A=f"{later}__date",
                    column_B=f"{earlier}__date",
                    or_equal=not strict,
                    ignore_row_if="either_value_is_missing",
                    meta=_meta(
                        "date_order",
                        later,
                        f"{later} {{value}} must be {word} {earlier} {{other}}",
                        other=earlier,
                    ),
                )
            )
    if spec.name == "implants":
        rules.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column="explant_reason",
                row_condition=Col("explant_date").is_not_null(),
                meta=_meta(
                    "missing_required",
                    "explant_reason",
                    "explant_reason is required when explant_date is given",
                ),
            )
        )
    if spec.name == "outcomes":
        for measure, (low, high) in MEASURE_RANGES.items():
            rules.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column="value__num",
                    min_value=low,
                    max_value=high,
                    row_condition=Col("measure") == measure,
                    meta=_meta(
                        "out_of_range",
                        "value",
                        f"value {{value}} is outside {measure}'s range {low:g}–{high:g}",
                    ),
                )
            )
    return ExpectationSuite(name=spec.name, expectations=rules)


def cross_suite(spec: Table) -> ExpectationSuite:
    """Rules over the table's cross-table frame (pipelines/load/validate.py: CROSS_VIEWS and
    queries/checks/, whose headers name the columns)."""
    rules: list = []
    for c in spec.columns:
        if not c.references:
            continue
        parent = c.references[0]
        singular = parent.rstrip("s")
        rules += [
            gxe.ExpectColumnValuesToBeInSet(
                column=f"{c.name}__found",
                value_set=[True],
                meta=_meta("unknown_reference", c.name, f"{c.name} '{{value}}' is not in {parent}"),
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column=f"{c.name}__parent_ok",
                value_set=[True],
                meta=_meta("quarantined_parent", c.name, f"references a quarantined {singular}"),
            ),
        ]
        if c.name in SAME_PATIENT_REFERENCES:
            rules.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=f"{c.name}__same_patient",
                    value_set=[True],
                    meta=_meta(
                        "reference_mismatch",
                        c.name,
                        f"{c.name} '{{value}}' belongs to another patient",
                    ),
                )
            )
    if spec.event_date is None:
        raise ValueError(f"{spec.name} has no event date: it has no rules across tables")
    event = f"{spec.event_date}__date"
    rules += [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=event,
            column_B="patient_date_of_birth",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=_meta(
                "before_birth",
                spec.event_date,
                f"{spec.event_date} {{value}} is before the patient's date_of_birth",
            ),
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="patient_date_of_death",
            column_B=event,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=_meta(
                "after_death",
                spec.event_date,
                f"{spec.event_date} {{value}} is after the patient's date_of_death",
            ),
        ),
    ]
    if spec.name == "refills":
        outside = "refill_date {value} is outside its pump's implant_date..explant_date"
        rules += [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="refill_date__date",
                column_B="pump_implant_date",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                meta=_meta("outside_pump_dates", "refill_date", outside),
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="pump_explant_date",
                column_B="refill_date__date",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                meta=_meta("outside_pump_dates", "refill_date", outside),
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="pump_reservoir_ml",
                column_B="fill_volume_ml__num",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                meta=_meta(
                    "exceeds_reservoir",
                    "fill_volume_ml",
                    "fill_volume_ml {value} is more than the pump's reservoir_ml",
                ),
            ),
        ]
    return ExpectationSuite(name=f"{spec.name}_cross", expectations=rules)


def sibling_suite(spec: Table) -> ExpectationSuite | None:
    """Rules that compare a row with the table's other rows (queries/checks/siblings_<table>.sql),
    judged only among the rows that passed every other rule: a quarantined row is not a pump.
    (Duplicate keys are row rules: every row sharing a key is quarantined, bad or not.)"""
    if spec.name != "implants":
        return None
    return ExpectationSuite(
        name=f"{spec.name}_siblings",
        expectations=[
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="implant_date__date",
                column_B="previous_pump_end",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                meta=_meta(
                    "pump_overlap",
                    "implant_date",
                    "implant_date {value} is before the patient's previous pump was explanted",
                ),
            ),
        ],
    )


WARNINGS = "_warnings"  # the suffix of a warning suite's name (queries/load_history reads it)
STALE_DEFAULT = 365  # the catalogue's stale_referral_days: the setting's default


def warning_suites(stale_referral_days: int = STALE_DEFAULT) -> list[ExpectationSuite]:
    """Counted, never quarantined: referrals still open at the as-of date (queries/marts/waits.sql
    at as_of, one row each) whose wait is longer than stale_referral_days are "to validate"."""
    return [
        ExpectationSuite(
            name=f"referrals{WARNINGS}",
            expectations=[
                gxe.ExpectColumnValuesToBeBetween(
                    column="days_waiting",
                    max_value=stale_referral_days,
                    meta=_meta(
                        "open_to_validate",
                        "received_date",
                        f"referral open {{value}} days at the as-of date, longer than "
                        f"{stale_referral_days}: to validate (the row is kept)",
                    ),
                ),
            ],
        )
    ]


def catalogue() -> str:
    """Every expectation of every suite as a Markdown table (expectations/README.md)."""
    lines = [
        "# Expectation suites",
        "",
        "Generated by `python -m expectations.suites` from `expectations/suites.py`; a test fails",
        "when this page and the suites differ. `{value}` is the offending row's raw value.",
        "",
        "| suite | expectation | column | reason code | message |",
        "|---|---|---|---|---|",
    ]
    for spec in TABLES.values():
        suites = [row_suite(spec)] + ([cross_suite(spec)] if spec.event_date else [])
        suites += [s for s in (sibling_suite(spec),) if s is not None]
        for suite in suites:
            for e in suite.expectations:
                meta = e.meta or {}  # every rule here is built with _meta
                message = meta["message"].replace("|", "\\|")
                lines.append(
                    f"| {suite.name} | {e.expectation_type} | {meta['column']} | "
                    f"{meta['reason_code']} | {message} |"
                )
    lines += [
        "",
        "## Warnings: counted, nothing quarantined",
        "",
        "Run after the rows are written, on the rows of a mart at the as-of date (the referrals",
        "open at as_of, as the waits figures count them); the numbers are the setting's default",
        f"(stale_referral_days = {STALE_DEFAULT}). `{{value}}` is the days the referral has been "
        "open.",
        "",
        "| suite | expectation | column | reason code | message |",
        "|---|---|---|---|---|",
    ]
    for suite in warning_suites():
        for e in suite.expectations:
            meta = e.meta or {}
            lines.append(
                f"| {suite.name} | {e.expectation_type} | {meta['column']} | "
                f"{meta['reason_code']} | {meta['message']} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    (Path(__file__).parent / "README.md").write_text(catalogue(), encoding="utf-8")
