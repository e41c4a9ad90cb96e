"""The synthetic extract generator: determinism, validity by the contract, realism, and the same
values in its CSV, Parquet and Excel forms.

The checker below is written from docs/contract.md, independently of the generator; it takes only
the code lists and ranges from pipelines.contract.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import nhs_number
import polars as pl
import pytest

from pipelines.contract import DATE_ORDERS, MEASURE_RANGES, TABLES
from pipelines.synthetic.generate import generate_extract

AS_OF = dt.date(2026, 11, 1)
PATIENTS = 300
SEED = 2026

Rows = list[dict]
Extract = dict[str, Rows]


@pytest.fixture(scope="module")
def csv_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated") / "csv"
    generate_extract(out, patients=PATIENTS, seed=SEED, as_of=AS_OF, fmt="csv")
    return out


@pytest.fixture(scope="module")
def raw(csv_dir: Path) -> dict[str, pl.DataFrame]:
    """Every table as written: all text, blanks as null."""
    return {name: pl.read_csv(csv_dir / f"{name}.csv", infer_schema=False) for name in TABLES}


@pytest.fixture(scope="module")
def extract(raw: dict[str, pl.DataFrame]) -> Extract:
    return {
        name: [_parse(name, row) for row in frame.iter_rows(named=True)]
        for name, frame in raw.items()
    }


# --- Reading values the way the contract defines them ---------------------------------------------

BOOLEANS = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
}


def _date(text: str) -> dt.date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.date.fromisoformat(text)
    if re.fullmatch(r"\d{2}/\d{2}/\d{4}", text):
        return dt.datetime.strptime(text, "%d/%m/%Y").date()
    raise ValueError(f"not a contract date: {text!r}")


def _code(text: str, codes: tuple[str, ...], aliases: dict[str, str]) -> str:
    code = re.sub(r"[ -]", "_", text.strip().lower())
    code = aliases.get(code, code)
    if code not in codes:
        raise ValueError(f"not a listed code: {text!r}")
    return code


def _parse(table: str, row: dict) -> dict:
    """One row with every value read by its column's kind; raises on a bad value."""
    parsed = {}
    for column in TABLES[table].columns:
        text = row[column.name]
        text = None if text is None or not text.strip() else text.strip()
        if text is None:
            assert not column.required, f"{table}.{column.name} blank in {row}"
            value = None
        elif column.kind == "date":
            value = _date(text)
        elif column.kind == "code":
            value = _code(text, column.codes, column.aliases)
        elif column.kind == "boolean":
            value = BOOLEANS[text.lower()]
        elif column.kind == "number":
            value = float(text)
        else:
            value = text
        parsed[column.name] = value
    if table == "referrals" and parsed["triage_outcome"] is None:
        parsed["triage_outcome"] = "pending"
    return parsed


# --- Determinism ----------------------------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_gives_identical_files(csv_dir: Path, tmp_path: Path) -> None:
    generate_extract(tmp_path / "again", patients=PATIENTS, seed=SEED, as_of=AS_OF, fmt="csv")
    assert _files(tmp_path / "again") == _files(csv_dir)


def test_another_seed_gives_other_files(csv_dir: Path, tmp_path: Path) -> None:
    generate_extract(tmp_path / "other", patients=PATIENTS, seed=SEED + 1, as_of=AS_OF, fmt="csv")
    other = _files(tmp_path / "other")
    assert set(other) == {f"{name}.csv" for name in TABLES}
    assert all(other[name] != data for name, data in _files(csv_dir).items())


def test_counts_are_the_rows_written(tmp_path: Path) -> None:
    counts = generate_extract(tmp_path / "x", patients=20, seed=3, as_of=AS_OF, fmt="csv")
    assert list(counts) == list(TABLES)
    for name, n in counts.items():
        assert pl.read_csv(tmp_path / "x" / f"{name}.csv", infer_schema=False).height == n
    assert counts["patients"] == 20


# --- Validity by the contract ---------------------------------------------------------------------


def test_nhs_numbers_are_test_range_and_pass_modulus_11(raw: dict[str, pl.DataFrame]) -> None:
    numbers = raw["patients"]["nhs_number"].drop_nulls().to_list()
    assert 0.9 * PATIENTS < len(numbers) < PATIENTS  # a few are blank
    assert any(" " in n for n in numbers) and any(" " not in n for n in numbers)
    digits = [n.replace(" ", "") for n in numbers]
    assert len(set(digits)) == len(digits)
    for n, d in zip(numbers, digits, strict=True):
        assert re.fullmatch(r"999\d{7}", d), n
        assert nhs_number.is_valid(d), n


def test_columns_and_values_follow_the_contract(
    raw: dict[str, pl.DataFrame], extract: Extract
) -> None:
    for name, frame in raw.items():
        assert frame.columns == list(TABLES[name].column_names)
    for row in extract["trials"]:
        assert row["dose_mcg"] is None or 0 < row["dose_mcg"] <= 1000
    for row in extract["implants"]:
        assert row["reservoir_ml"] in (20, 40)
    for row in extract["refills"]:
        assert 0 < row["concentration_mcg_per_ml"] <= 4000
        assert 0 < row["daily_dose_mcg"] <= 3000
        for residual in ("expected_residual_ml", "actual_residual_ml"):
            assert row[residual] is None or row[residual] >= 0
    for row in extract["outcomes"]:
        low, high = MEASURE_RANGES[row["measure"]]
        assert low <= row["value"] <= high, row
        if row["measure"] == "mas":
            assert row["value"] in (0, 1, 1.5, 2, 3, 4)
    for row in extract["patients"]:
        postcode = row["postcode"]
        assert postcode is None or re.fullmatch(r"[A-Z]{1,2}\d{1,2} \d[A-Z]{2}", postcode)


def test_keys_are_unique_and_references_hold(extract: Extract) -> None:
    for name, table in TABLES.items():
        keys = [tuple(row[k] for k in table.key) for row in extract[name]]
        assert len(keys) == len(set(keys)), f"duplicate key in {name}"
    owner = {
        name: {row[TABLES[name].key[0]]: row["patient_id"] for row in extract[name]}
        for name in ("referrals", "implants")
    }
    patients = {row["patient_id"] for row in extract["patients"]}
    for name in TABLES:
        if name != "patients":
            assert all(row["patient_id"] in patients for row in extract[name]), name
    for name, column, parent in (
        ("appointments", "referral_id", "referrals"),
        ("refills", "implant_id", "implants"),
        ("complications", "implant_id", "implants"),
    ):
        for row in extract[name]:
            if row[column] is not None:
                assert owner[parent].get(row[column]) == row["patient_id"], (name, row)


def test_dates_follow_the_contract(extract: Extract) -> None:
    people = {row["patient_id"]: row for row in extract["patients"]}
    for name, table in TABLES.items():
        for row in extract[name]:
            person = people[row["patient_id"]]
            for column in table.columns:
                day = row[column.name]
                if column.kind != "date" or day is None or column.planned:
                    continue
                assert day <= AS_OF, (name, column.name, row)
                if column.name != "date_of_death":
                    assert day >= person["date_of_birth"], (name, column.name, row)
                    assert person["date_of_death"] is None or day <= person["date_of_death"], (
                        name,
                        column.name,
                        row,
                    )
    for name, earlier, later, strict in DATE_ORDERS:
        for row in extract[name]:
            if row[earlier] is not None and row[later] is not None:
                assert row[later] > row[earlier] if strict else row[later] >= row[earlier], row


def test_pumps_and_refills_fit_together(extract: Extract) -> None:
    pumps = {row["implant_id"]: row for row in extract["implants"]}
    by_patient = defaultdict(list)
    for pump in pumps.values():
        assert (pump["explant_date"] is None) == (pump["explant_reason"] is None), pump
        by_patient[pump["patient_id"]].append(pump)
    for patient_pumps in by_patient.values():
        patient_pumps.sort(key=lambda p: p["implant_date"])
        assert patient_pumps[0]["procedure"] == "new_implant"
        for before, after in pairwise(patient_pumps):
            assert before["explant_date"] is not None, before
            assert after["implant_date"] >= before["explant_date"], (before, after)
            assert after["procedure"] == "replacement"
    for refill in extract["refills"]:
        pump = pumps[refill["implant_id"]]
        assert pump["implant_date"] <= refill["refill_date"], refill
        assert pump["explant_date"] is None or refill["refill_date"] <= pump["explant_date"], refill
        assert 0 < refill["fill_volume_ml"] <= pump["reservoir_ml"], refill


# --- Realism --------------------------------------------------------------------------------------


def test_pathway_looks_like_a_real_service(extract: Extract, raw: dict[str, pl.DataFrame]) -> None:
    appointments = extract["appointments"]
    statuses = {row["status"] for row in appointments}
    assert statuses == {"attended", "dna", "patient_cancelled", "hospital_cancelled"}
    dna = sum(row["status"] == "dna" for row in appointments if row["type"] == "new_assessment")
    assessments = sum(row["type"] == "new_assessment" for row in appointments)
    assert 0.03 < dna / assessments < 0.15

    received = {row["referral_id"]: row["received_date"] for row in extract["referrals"]}
    seen: dict[str, dt.date] = {}
    for row in appointments:
        if row["type"] == "new_assessment" and row["status"] == "attended":
            seen[row["referral_id"]] = min(
                row["appointment_date"], seen.get(row["referral_id"], dt.date.max)
            )
    waits = [(day - received[ref]).days for ref, day in seen.items()]
    assert 0.1 < sum(w > 42 for w in waits) / len(waits) < 0.6

    trials = defaultdict(set)
    for row in extract["trials"]:
        trials[row["patient_id"]].add(row["outcome"])
    responders = sum("positive" in outcomes for outcomes in trials.values())
    assert 0.8 < responders / len(trials) < 0.99

    reasons = [row["explant_reason"] for row in extract["implants"]]
    assert "battery_end_of_life" in reasons
    assert any(row["procedure"] == "replacement" for row in extract["implants"])
    assert any(row["reported_eri_date"] for row in extract["refills"])
    assert any(row["date_of_death"] for row in extract["patients"])
    assert {row["related_to"] for row in extract["complications"]} >= {"device", "implantation"}

    models = [row["pump_model"] for row in extract["implants"]]
    assert models.count("SynchroMed II") > len(models) / 2

    uk = sum(
        bool(re.fullmatch(r"\d\d/\d\d/\d{4}", d)) for d in raw["refills"]["refill_date"].to_list()
    )
    assert 0.02 < uk / raw["refills"].height < 0.1
    codes = raw["patients"]["primary_condition"].to_list()
    assert any(c not in TABLES["patients"].column("primary_condition").codes for c in codes)


def test_refills_follow_the_pump_maths(extract: Extract) -> None:
    """Intervals come from fill x concentration / dose (capped at 180 days, less a margin); most
    refills are on time, some late; residuals mostly agree with the programmer."""
    by_pump = defaultdict(list)
    for row in extract["refills"]:
        by_pump[row["implant_id"]].append(row)
    on_time = late = discrepancies = booked = after_alarm = 0
    for rows in by_pump.values():
        rows.sort(key=lambda r: r["refill_date"])
        for row, after in pairwise(rows):
            if row["next_due_date"] is None:
                continue
            booked += 1
            days_to_alarm = min(
                (row["fill_volume_ml"] - 2)
                * row["concentration_mcg_per_ml"]
                / row["daily_dose_mcg"],
                180,
            )
            days_booked = (row["next_due_date"] - row["refill_date"]).days
            assert days_booked <= days_to_alarm + 10, row
            after_alarm += days_booked > days_to_alarm
            if after["refill_date"] <= row["next_due_date"]:
                on_time += 1
            else:
                late += 1
        for row in rows:
            if row["expected_residual_ml"] is not None:
                discrepancies += abs(row["actual_residual_ml"] - row["expected_residual_ml"]) > 2
    assert 0.7 < on_time / (on_time + late) < 0.95
    assert 0 < discrepancies < 0.1 * len(extract["refills"])
    assert booked > 0.85 * len(extract["refills"]) - len(by_pump)
    assert after_alarm < 0.02 * booked  # a rare booking past the alarm, a safety flag


# --- The same values in every form ----------------------------------------------------------------


def _as_values(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """A table read from any form as comparable values: dates as dates, numbers as floats."""
    columns = []
    for column in TABLES[table].columns:
        col = pl.col(column.name)
        if column.kind == "date" and frame.schema[column.name] == pl.String:
            col = pl.coalesce(
                col.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
                col.str.strptime(pl.Date, "%d/%m/%Y", strict=False),
            )
        elif column.kind == "date":
            col = col.cast(pl.Date)
        elif column.kind == "number":
            col = col.cast(pl.Float64)
        else:
            col = col.cast(pl.String)
        columns.append(col.alias(column.name))
    return frame.select(columns)


def test_csv_parquet_and_xlsx_hold_the_same_values(tmp_path: Path) -> None:
    args = dict(patients=60, seed=7, as_of=AS_OF)
    counts = generate_extract(tmp_path / "csv", fmt="csv", **args)
    assert generate_extract(tmp_path / "pq", fmt="parquet", **args) == counts
    assert generate_extract(tmp_path / "book.xlsx", fmt="xlsx", **args) == counts
    generate_extract(tmp_path / "folder", fmt="xlsx", **args)
    assert (tmp_path / "folder" / "extract.xlsx").exists()
    for name in TABLES:
        text = pl.read_csv(tmp_path / "csv" / f"{name}.csv", infer_schema=False)
        parquet = pl.read_parquet(tmp_path / "pq" / f"{name}.parquet")
        assert all(dtype == pl.String for dtype in parquet.dtypes)
        assert parquet.equals(text), name
        sheet = pl.read_excel(tmp_path / "book.xlsx", sheet_name=name)
        assert sheet.columns == text.columns
        for column in TABLES[name].columns:  # real date and number cells, not text
            if sheet[column.name].null_count() < sheet.height:
                if column.kind == "date":
                    assert sheet.schema[column.name] in (pl.Date, pl.Datetime), column.name
                elif column.kind == "number":
                    assert sheet.schema[column.name].is_numeric(), column.name
        assert _as_values(sheet, name).equals(_as_values(text, name)), name
