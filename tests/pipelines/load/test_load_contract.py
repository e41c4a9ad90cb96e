"""Every value and date rule of docs/contract.md: a row that breaks it, and a row on the boundary
that passes.

Each case is its own patient pathway (the base extract with ids suffixed by the case name) with
one edit. All cases go into one extract, loaded once; each test then checks its own rows: the
listed rows are quarantined with exactly the listed reason codes, every other row is accepted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb
import pytest

from pipelines.contract import TABLES
from pipelines.load.snapshot import load_extract
from tests.fixtures.extract_builder import AS_OF, base_extract, write_csv_extract

Tables = dict[str, list[dict[str, str]]]
Expected = dict[tuple[str, int], set[str]]
CHILDREN = (
    "referrals",
    "appointments",
    "trials",
    "implants",
    "refills",
    "complications",
    "outcomes",
)


def pathway(case: str) -> Tables:
    """The base pathway with every id suffixed, and no NHS number (cases that need one set it)."""
    tables = base_extract()
    for rows in tables.values():
        for row in rows:
            for column in (
                "patient_id",
                "referral_id",
                "appointment_id",
                "trial_id",
                "implant_id",
                "refill_id",
                "complication_id",
            ):
                if row.get(column):
                    row[column] = f"{row[column]}-{case}"
    tables["patients"][0]["nhs_number"] = ""
    return tables


def patient_rejected(*codes: str) -> Expected:
    """The patient row fails; every other row of the pathway goes with it."""
    expected: Expected = {("patients", 0): set(codes)}
    expected.update({(t, 0): {"quarantined_parent"} for t in CHILDREN})
    return expected


def referral_rejected(*codes: str) -> Expected:
    """The referral fails; the assessment booked against it goes with it."""
    return {("referrals", 0): set(codes), ("appointments", 0): {"quarantined_parent"}}


def implant_rejected(*codes: str) -> Expected:
    """The implant fails; its refill and its complication go with it."""
    return {
        ("implants", 0): set(codes),
        ("refills", 0): {"quarantined_parent"},
        ("complications", 0): {"quarantined_parent"},
    }


def setter(table: str, **values: str) -> Callable[[Tables], None]:
    def edit(t: Tables) -> None:
        t[table][0].update(values)

    return edit


def extra(table: str, **values: str) -> Callable[[Tables], None]:
    """Append a copy of the table's first row with some values changed (a second row)."""

    def edit(t: Tables) -> None:
        t[table].append({**t[table][0], **values})

    return edit


def both(*edits: Callable[[Tables], None]) -> Callable[[Tables], None]:
    def edit(t: Tables) -> None:
        for e in edits:
            e(t)

    return edit


ACCEPTED: Expected = {}

# (case name, edit, expected quarantine). Dates in the base: birth 1980-05-17, referral received
# 2020-01-06, triage 2020-01-08, assessment 2020-02-03, trial 2020-03-02, implant 2020-05-04,
# first refill due 2020-08-03, refill 2020-08-01 (next due 2020-11-01), complication 2020-06-01,
# outcome 2020-04-20; as-of date 2024-06-30.
CASES: list[tuple[str, Callable[[Tables], None], Expected]] = [
    ("base", lambda t: None, ACCEPTED),
    # --- value rules: dates
    ("iso-leap-day", setter("patients", date_of_birth="2000-02-29"), ACCEPTED),
    ("uk-leap-day", setter("patients", date_of_birth="29/02/2000"), ACCEPTED),
    ("uk-date", setter("patients", date_of_birth="03/04/1981"), ACCEPTED),
    (
        "not-a-leap-day",
        setter("patients", date_of_birth="2001-02-29"),
        patient_rejected("bad_date"),
    ),
    ("uk-impossible", setter("patients", date_of_birth="31/04/1981"), patient_rejected("bad_date")),
    ("unpadded-date", setter("patients", date_of_birth="1981-4-3"), patient_rejected("bad_date")),
    ("us-dash-date", setter("patients", date_of_birth="04-03-1981"), patient_rejected("bad_date")),
    (
        "date-with-time",
        setter("referrals", received_date="2020-01-06 00:00:00"),
        referral_rejected("bad_date"),
    ),
    (
        "date-with-words",
        setter("referrals", received_date="6 Jan 2020"),
        referral_rejected("bad_date"),
    ),
    # --- value rules: required values (blank means missing; whitespace is trimmed)
    ("missing-dob", setter("patients", date_of_birth="  "), patient_rejected("missing_required")),
    (
        "missing-referral-source",
        setter("referrals", source=""),
        referral_rejected("missing_required"),
    ),
    ("missing-pump-model", setter("implants", pump_model=""), implant_rejected("missing_required")),
    (
        "missing-outcome-value",
        setter("outcomes", value=""),
        {("outcomes", 0): {"missing_required"}},
    ),
    ("missing-trial-outcome", setter("trials", outcome=""), {("trials", 0): {"missing_required"}}),
    # --- codes: case, spaces, hyphens and the listed aliases
    (
        "code-spellings",
        both(
            setter(
                "patients", sex=" M ", primary_condition="Spinal-Cord Injury", tone_pattern="MIXED"
            ),
            setter("appointments", type="New Assessment"),
        ),
        ACCEPTED,
    ),
    ("code-unknown-sex", setter("patients", sex="X"), patient_rejected("bad_code")),
    (
        "code-unknown-condition",
        setter("patients", primary_condition="MS"),
        patient_rejected("bad_code"),
    ),
    ("code-blank-optional", setter("patients", tone_pattern=""), ACCEPTED),
    ("code-bad-optional", setter("patients", tone_pattern="rigid"), patient_rejected("bad_code")),
    (
        "code-bad-status",
        setter("appointments", status="no_show"),
        {("appointments", 0): {"bad_code"}},
    ),
    (
        "code-bad-category",
        setter("complications", category="bleeding"),
        {("complications", 0): {"bad_code"}},
    ),
    ("code-bad-measure", setter("outcomes", measure="ashworth"), {("outcomes", 0): {"bad_code"}}),
    ("triage-blank-is-pending", setter("referrals", triage_outcome="", triage_date=""), ACCEPTED),
    # --- booleans
    (
        "boolean-spellings",
        both(
            setter("complications", required_surgery="Y"),
            extra(
                "complications", complication_id="C2-boolean-spellings", required_surgery="FALSE"
            ),
        ),
        ACCEPTED,
    ),
    (
        "boolean-bad",
        setter("complications", required_surgery="maybe"),
        {("complications", 0): {"bad_boolean"}},
    ),
    # --- numbers and ranges
    (
        "number-thousands",
        setter("refills", concentration_mcg_per_ml="1,000"),
        {("refills", 0): {"bad_number"}},
    ),
    ("number-with-unit", setter("trials", dose_mcg="50mcg"), {("trials", 0): {"bad_number"}}),
    ("dose-at-max", setter("trials", dose_mcg="1000"), ACCEPTED),
    ("dose-over-max", setter("trials", dose_mcg="1000.5"), {("trials", 0): {"out_of_range"}}),
    ("dose-zero", setter("trials", dose_mcg="0"), {("trials", 0): {"out_of_range"}}),
    (
        "reservoir-40",
        both(setter("implants", reservoir_ml="40"), setter("refills", fill_volume_ml="40")),
        ACCEPTED,
    ),
    ("reservoir-30", setter("implants", reservoir_ml="30"), implant_rejected("out_of_range")),
    ("fill-equals-reservoir", setter("refills", fill_volume_ml="20.0"), ACCEPTED),
    (
        "fill-over-reservoir",
        setter("refills", fill_volume_ml="20.5"),
        {("refills", 0): {"exceeds_reservoir"}},
    ),
    ("fill-zero", setter("refills", fill_volume_ml="0"), {("refills", 0): {"out_of_range"}}),
    (
        "residual-zero",
        setter("refills", expected_residual_ml="0", actual_residual_ml="0"),
        ACCEPTED,
    ),
    (
        "residual-negative",
        setter("refills", actual_residual_ml="-0.1"),
        {("refills", 0): {"out_of_range"}},
    ),
    ("concentration-max", setter("refills", concentration_mcg_per_ml="4000"), ACCEPTED),
    (
        "concentration-over",
        setter("refills", concentration_mcg_per_ml="4001"),
        {("refills", 0): {"out_of_range"}},
    ),
    ("daily-dose-max", setter("refills", daily_dose_mcg="3000"), ACCEPTED),
    (
        "daily-dose-over",
        setter("refills", daily_dose_mcg="3000.01"),
        {("refills", 0): {"out_of_range"}},
    ),
    ("mas-one-plus", setter("outcomes", value="1.5"), ACCEPTED),
    ("mas-over", setter("outcomes", value="4.5"), {("outcomes", 0): {"out_of_range"}}),
    ("weight-max", setter("outcomes", measure="weight_kg", value="300"), ACCEPTED),
    (
        "weight-over",
        setter("outcomes", measure="weight_kg", value="300.1"),
        {("outcomes", 0): {"out_of_range"}},
    ),
    (
        "gas-under",
        setter("outcomes", measure="gas_t_score", value="9"),
        {("outcomes", 0): {"out_of_range"}},
    ),
    ("pain-max", setter("outcomes", measure="pain_nrs", value="10"), ACCEPTED),
    # --- NHS number and postcode
    ("nhs-spaced", setter("patients", nhs_number="999 000 0034"), ACCEPTED),
    ("nhs-plain", setter("patients", nhs_number="9990000042"), ACCEPTED),
    (
        "nhs-check-digit",
        setter("patients", nhs_number="9990000043"),
        patient_rejected("bad_nhs_number"),
    ),
    (
        "nhs-nine-digits",
        setter("patients", nhs_number="999000005"),
        patient_rejected("bad_nhs_number"),
    ),
    (
        "nhs-hyphens",
        setter("patients", nhs_number="999-000-0050"),
        patient_rejected("bad_nhs_number"),
    ),
    # 999 000 006x: 9*10+9*9+9*8+6*2 = 255, 255 mod 11 = 2, 11-2 = 9: 9990000069 passes, and
    # 999 000 007x: 257 mod 11 = 4, check 7: 9990000077; while 9990000085 gives 10: never issued.
    (
        "nhs-check-ten",
        setter("patients", nhs_number="9990000080"),
        patient_rejected("bad_nhs_number"),
    ),
    (
        "nhs-duplicate",
        both(
            setter("patients", nhs_number="9990000069"),
            extra("patients", patient_id="P2-nhs-duplicate", nhs_number="999 000 0069"),
        ),
        {**patient_rejected("duplicate_nhs_number"), ("patients", 1): {"duplicate_nhs_number"}},
    ),
    (
        "postcode-forms",
        both(
            setter("patients", postcode="se18 4qh"),
            extra("patients", patient_id="P2-postcode-forms", postcode="LS1"),
        ),
        ACCEPTED,
    ),
    ("postcode-bad", setter("patients", postcode="12345"), patient_rejected("bad_postcode")),
    # --- keys
    (
        "duplicate-patient",
        extra("patients", sex="male"),
        {**patient_rejected("duplicate_key"), ("patients", 1): {"duplicate_key"}},
    ),
    (
        "duplicate-refill",
        extra("refills", refill_date="2020-08-02"),
        {("refills", 0): {"duplicate_key"}, ("refills", 1): {"duplicate_key"}},
    ),
    (
        "duplicate-outcome",
        extra("outcomes", value="2"),
        {("outcomes", 0): {"duplicate_key"}, ("outcomes", 1): {"duplicate_key"}},
    ),
    (
        "outcome-other-measure",
        extra("outcomes", measure="penn_spasm_frequency", value="2"),
        ACCEPTED,
    ),
    # --- references
    (
        "unknown-patient",
        setter("trials", patient_id="P-nobody"),
        {("trials", 0): {"unknown_reference"}},
    ),
    (
        "unknown-referral",
        setter("appointments", referral_id="R-nobody"),
        {("appointments", 0): {"unknown_reference"}},
    ),
    ("blank-referral", setter("appointments", referral_id=""), ACCEPTED),
    (
        "unknown-implant",
        setter("refills", implant_id="I-nobody"),
        {("refills", 0): {"unknown_reference"}},
    ),
    ("blank-complication-implant", setter("complications", implant_id=""), ACCEPTED),
    (
        "referral-other-patient",
        both(
            extra("patients", patient_id="P2-referral-other-patient"),
            setter("appointments", patient_id="P2-referral-other-patient"),
        ),
        {("appointments", 0): {"reference_mismatch"}},
    ),
    (
        "implant-other-patient",
        both(
            extra("patients", patient_id="P2-implant-other-patient"),
            setter("refills", patient_id="P2-implant-other-patient"),
        ),
        {("refills", 0): {"reference_mismatch"}},
    ),
    ("quarantined-referral", setter("referrals", source="fax"), referral_rejected("bad_code")),
    # --- date orders within a row
    (
        "death-on-birth-day",
        setter("patients", date_of_birth="1980-05-17", date_of_death="2024-06-30"),
        ACCEPTED,
    ),
    (
        "death-before-birth",
        setter("patients", date_of_death="1980-05-16"),
        # every event is also after this death
        {
            ("patients", 0): {"date_order"},
            **{(t, 0): {"quarantined_parent", "after_death"} for t in CHILDREN},
        },
    ),
    ("triage-same-day", setter("referrals", triage_date="2020-01-06"), ACCEPTED),
    (
        "triage-before-received",
        setter("referrals", triage_date="2020-01-05"),
        referral_rejected("date_order"),
    ),
    ("first-refill-due-next-day", setter("implants", first_refill_due_date="2020-05-05"), ACCEPTED),
    (
        "first-refill-due-same-day",
        setter("implants", first_refill_due_date="2020-05-04"),
        implant_rejected("date_order"),
    ),
    (
        "explant-same-day",
        both(setter("implants", explant_date="2020-08-01", explant_reason="infection")),
        ACCEPTED,
    ),
    (
        "explant-before-implant",
        setter("implants", explant_date="2020-05-03", explant_reason="other"),
        # the refill (2020-08-01) now also lies after the pump's explant
        {
            ("implants", 0): {"date_order"},
            ("refills", 0): {"quarantined_parent", "outside_pump_dates"},
            ("complications", 0): {"quarantined_parent"},
        },
    ),
    (
        "explant-without-reason",
        setter("implants", explant_date="2021-01-01"),
        implant_rejected("missing_required"),
    ),
    (
        "next-due-same-day",
        setter("refills", next_due_date="2020-08-01"),
        {("refills", 0): {"date_order"}},
    ),
    # --- pumps
    ("refill-on-implant-day", setter("refills", refill_date="2020-05-04"), ACCEPTED),
    (
        "refill-before-implant",
        setter("refills", refill_date="2020-05-03"),
        {("refills", 0): {"outside_pump_dates"}},
    ),
    (
        "refill-on-explant-day",
        setter("implants", explant_date="2020-08-01", explant_reason="malfunction"),
        ACCEPTED,
    ),
    (
        "refill-after-explant",
        setter("implants", explant_date="2020-07-31", explant_reason="malfunction"),
        {("refills", 0): {"outside_pump_dates"}},
    ),
    (
        "replacement-on-explant-day",
        both(
            setter("implants", explant_date="2022-01-10", explant_reason="battery_end_of_life"),
            extra(
                "implants",
                implant_id="I2-replacement-on-explant-day",
                implant_date="2022-01-10",
                procedure="replacement",
                first_refill_due_date="",
                explant_date="",
                explant_reason="",
            ),
        ),
        ACCEPTED,
    ),
    (
        "replacement-overlaps",
        both(
            setter("implants", explant_date="2022-01-10", explant_reason="battery_end_of_life"),
            extra(
                "implants",
                implant_id="I2-replacement-overlaps",
                implant_date="2022-01-09",
                procedure="replacement",
                first_refill_due_date="",
                explant_date="",
                explant_reason="",
            ),
        ),
        {("implants", 1): {"pump_overlap"}},
    ),
    (
        "second-pump-while-first-in-situ",
        extra(
            "implants",
            implant_id="I2-second-pump",
            implant_date="2023-01-09",
            procedure="replacement",
            first_refill_due_date="",
        ),
        {("implants", 1): {"pump_overlap"}},
    ),
    # A quarantined implant row is not a pump: the overlap rule compares only the rows that pass
    # every other rule, so the patient's valid pump (2020-05-04, in situ) and its refill and
    # complication stay accepted, and the bad row keeps its own reasons only.
    (
        "bad-earlier-pump-reservoir",
        extra(
            "implants",
            implant_id="I0-bad-earlier-pump-reservoir",
            implant_date="2019-01-07",
            reservoir_ml="30",
            first_refill_due_date="",
        ),
        {("implants", 1): {"out_of_range"}},
    ),
    (
        "bad-earlier-pump-date-order",
        extra(
            "implants",
            implant_id="I0-bad-earlier-pump-date-order",
            implant_date="2019-01-07",
            first_refill_due_date="2019-01-07",
        ),
        {("implants", 1): {"date_order"}},
    ),
    (
        "bad-earlier-pump-no-explant-reason",
        extra(
            "implants",
            implant_id="I0-bad-earlier-pump-no-explant-reason",
            implant_date="2019-01-07",
            first_refill_due_date="",
            explant_date="2021-01-04",
        ),
        {("implants", 1): {"missing_required"}},
    ),
    (
        "bad-earlier-pump-before-birth",
        extra(
            "implants",
            implant_id="I0-bad-earlier-pump-before-birth",
            implant_date="1979-01-08",
            first_refill_due_date="",
        ),
        {("implants", 1): {"before_birth"}},
    ),
    (
        "bad-later-pump-keeps-its-own-reason",
        extra(
            "implants",
            implant_id="I2-bad-later-pump",
            implant_date="2023-01-09",
            reservoir_ml="30",
            procedure="replacement",
            first_refill_due_date="",
        ),
        {("implants", 1): {"out_of_range"}},
    ),
    # A duplicate key still quarantines every row that shares it (and their dependants); neither
    # row is a pump, so the later one is not also an overlap.
    (
        "duplicate-implant",
        extra("implants", implant_date="2021-01-04", first_refill_due_date=""),
        {
            ("implants", 0): {"duplicate_key"},
            ("implants", 1): {"duplicate_key"},
            ("refills", 0): {"quarantined_parent"},
            ("complications", 0): {"quarantined_parent"},
        },
    ),
    # --- birth, death and as-of rules for events
    ("event-on-birth-day", setter("outcomes", assessment_date="1980-05-17"), ACCEPTED),
    (
        "event-before-birth",
        setter("outcomes", assessment_date="1980-05-16"),
        {("outcomes", 0): {"before_birth"}},
    ),
    ("event-on-death-day", setter("patients", date_of_death="2020-08-01"), ACCEPTED),
    (
        "event-after-death",
        setter("patients", date_of_death="2020-07-31"),
        {("refills", 0): {"after_death"}},
    ),
    ("event-on-as-of", setter("outcomes", assessment_date=AS_OF), ACCEPTED),
    (
        "event-after-as-of",
        setter("outcomes", assessment_date="2024-07-01"),
        {("outcomes", 0): {"after_as_of"}},
    ),
    (
        "birth-after-as-of",
        setter("patients", date_of_birth="2024-07-01"),
        {
            ("patients", 0): {"after_as_of"},
            **{(t, 0): {"quarantined_parent", "before_birth"} for t in CHILDREN},
        },
    ),
    (
        "planned-dates-after-as-of",
        both(
            setter("implants", first_refill_due_date="2025-01-01"),
            setter("refills", next_due_date="2025-02-01", reported_eri_date="2026-03-01"),
        ),
        ACCEPTED,
    ),
    (
        "death-after-as-of",
        setter("patients", date_of_death="2024-07-01"),
        patient_rejected("after_as_of"),
    ),
]


def _source_rows(tables: dict[str, list[tuple[str, int, dict]]]) -> dict[tuple[str, str, int], int]:
    return {
        (case, table, i): n + 2
        for table, rows in tables.items()
        for n, (case, i, _row) in enumerate(rows)
    }


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, gx_runner):
    """Load all cases once; map each (case, table, index) to its quarantine reason codes."""
    combined: dict[str, list[tuple[str, int, dict]]] = {t: [] for t in TABLES}
    for case, edit, _ in CASES:
        tables = pathway(case)
        edit(tables)
        for table, rows in tables.items():
            combined[table] += [(case, i, row) for i, row in enumerate(rows)]
    folder = tmp_path_factory.mktemp("contract")
    write_csv_extract(
        folder / "extract", {t: [r for _, _, r in rows] for t, rows in combined.items()}
    )
    db = folder / "warehouse.duckdb"
    result = load_extract(
        folder / "extract", db, as_of=dt.date.fromisoformat(AS_OF), runner=gx_runner
    )
    with duckdb.connect(str(db), read_only=True) as con:
        quarantine = {
            (t, r): set(codes)
            for t, r, codes in con.execute(
                "select table_name, source_row, reason_codes from audit.quarantine"
            ).fetchall()
        }
    positions = _source_rows(combined)
    return result, quarantine, positions, combined


@pytest.mark.parametrize(
    "case, expected", [(c, e) for c, _, e in CASES], ids=[c for c, _, _ in CASES]
)
def test_case_quarantines_exactly_the_expected_rows(loaded, case, expected):
    _, quarantine, positions, _ = loaded
    got = {
        (table, i): quarantine[(table, row)]
        for (c, table, i), row in positions.items()
        if c == case and (table, row) in quarantine
    }
    assert got == expected


def test_counts_reconcile(loaded):
    result, quarantine, _, combined = loaded
    for table, counts in result.tables.items():
        assert counts.rows_read == len(combined[table])
        assert counts.rows_read == counts.rows_accepted + counts.rows_quarantined
        assert counts.rows_quarantined == sum(1 for t, _ in quarantine if t == table)
