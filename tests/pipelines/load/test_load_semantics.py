"""The contract's load semantics: refusals, all-or-nothing writes, idempotent reloads, sites,
the three file forms, lineage and pseudonymisation."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import duckdb
import polars as pl
import pytest
import xlsxwriter

from pipelines.contract import TABLES
from pipelines.load.read import LoadRefused
from pipelines.load.snapshot import load_extract
from tests.fixtures.extract_builder import AS_OF, NHS_OK, base_extract, write_csv_extract

AS_OF_DATE = dt.date.fromisoformat(AS_OF)


def _load(extract, db, runner, **kw):
    return load_extract(extract, db, as_of=AS_OF_DATE, runner=runner, **kw)


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _core(db) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"select * from core.{t} order by all").fetchall() for t in TABLES}


@pytest.fixture(scope="module")
def loaded_once(tmp_path_factory, gx_runner):
    folder = tmp_path_factory.mktemp("loaded")
    db = folder / "warehouse.duckdb"
    _load(write_csv_extract(folder / "good", base_extract()), db, gx_runner)
    return db


@pytest.fixture
def loaded_db(tmp_path, loaded_once):
    """The base extract's warehouse: a copy of the module's one load (a test may change it)."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(loaded_once, db)
    return db


def _csv(tmp_path, name, edit):
    tables = base_extract()
    edit(tables)
    return write_csv_extract(tmp_path / name, tables)


# --- refusals: each names the file (and the column), and changes nothing ----------------------


def _drop_column(table, column):
    def edit(path):
        frame = pl.read_csv(path / f"{table}.csv", infer_schema=False).drop(column)
        frame.write_csv(path / f"{table}.csv")

    return edit


REFUSALS = [
    (
        "missing-table",
        lambda p: (p / "refills.csv").unlink(),
        r"refills\.csv: required table is missing",
    ),
    (
        "missing-column",
        _drop_column("implants", "reservoir_ml"),
        r"implants\.csv: required column 'reservoir_ml' is missing",
    ),
    (
        "duplicate-column",
        lambda p: (p / "trials.csv").write_text(
            "trial_id,patient_id,Trial_ID,trial_date,outcome\n"
        ),
        r"trials\.csv: column 'trial_id' appears more than once",
    ),
    (
        "empty-file",
        lambda p: (p / "referrals.csv").write_bytes(b""),
        r"referrals\.csv: the file is empty",
    ),
    (
        "latin-1",
        lambda p: (p / "patients.csv").write_bytes(
            (p / "patients.csv").read_bytes().replace(b"female", "f\xe9male".encode("latin-1"))
        ),
        r"patients\.csv: not UTF-8",
    ),
    (
        "wrong-delimiter",
        lambda p: (p / "patients.csv").write_text(
            (p / "patients.csv").read_text().replace(",", ";")
        ),
        r"patients\.csv: required column 'patient_id' is missing",
    ),
    (
        "too-many-fields",
        lambda p: (p / "outcomes.csv").write_text(
            "patient_id,assessment_date,measure,value\nP1,2020-04-20,mas,3,extra\n"
        ),
        r"outcomes\.csv: cannot be parsed",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("case, damage, message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_load_names_the_problem_and_changes_nothing(
    tmp_path, loaded_db, gx_runner, case, damage, message
):
    extract = write_csv_extract(tmp_path / case, base_extract())
    damage(extract)
    before = _sha(loaded_db)
    with pytest.raises(LoadRefused, match=message):
        _load(extract, loaded_db, gx_runner)
    assert _sha(loaded_db) == before


def test_extract_with_no_rows_is_refused(tmp_path, gx_runner):
    extract = write_csv_extract(tmp_path / "empty", {t: [] for t in TABLES})
    with pytest.raises(LoadRefused, match="the extract is empty"):
        _load(extract, tmp_path / "w.duckdb", gx_runner)
    assert not (tmp_path / "w.duckdb").exists()


@pytest.mark.slow
def test_optional_outcomes_may_be_absent(tmp_path, gx_runner):
    tables = base_extract()
    del tables["outcomes"]
    result = _load(write_csv_extract(tmp_path / "x", tables), tmp_path / "w.duckdb", gx_runner)
    assert result.tables["outcomes"].rows_read == 0
    assert result.tables["patients"].rows_accepted == 1


@pytest.mark.slow
def test_cli_refusal_is_one_line_with_exit_code_2(tmp_path, loaded_db):
    extract = write_csv_extract(tmp_path / "bad", base_extract())
    (extract / "implants.csv").unlink()
    before = _sha(loaded_db)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "load",
            str(extract),
            "--db",
            str(loaded_db),
            "--as-of",
            AS_OF,
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"load refused: implants.csv: required table is missing from {extract}"
    ]
    assert _sha(loaded_db) == before


@pytest.mark.slow
def test_cli_json_summary(tmp_path):
    tables = base_extract()
    tables["trials"][0]["dose_mcg"] = "0"
    extract = write_csv_extract(tmp_path / "x", tables)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "load",
            str(extract),
            "--db",
            str(tmp_path / "w.duckdb"),
            "--site",
            "leeds",
            "--as-of",
            AS_OF,
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(proc.stdout)
    assert summary["site"] == "leeds" and summary["load_id"] == 1
    assert summary["tables"]["trials"] == {
        "rows_read": 1,
        "rows_accepted": 0,
        "rows_quarantined": 1,
    }
    assert summary["tables"]["patients"] == {
        "rows_read": 1,
        "rows_accepted": 1,
        "rows_quarantined": 0,
    }
    assert set(summary["tables"]) == set(TABLES)


# --- all or nothing ---------------------------------------------------------------------------


@pytest.mark.slow
def test_failure_mid_load_leaves_previous_data_intact(tmp_path, loaded_db, gx_runner):
    before_bytes, before_rows = _sha(loaded_db), _core(loaded_db)
    changed = _csv(tmp_path, "changed", lambda t: t["trials"][0].update(outcome="negative"))

    def crash():
        raise OSError("disk full (injected)")

    with pytest.raises(OSError, match="injected"):
        _load(changed, loaded_db, gx_runner, before_commit=crash)
    assert _sha(loaded_db) == before_bytes
    assert _core(loaded_db) == before_rows
    assert not list(tmp_path.glob(".*loading*"))


@pytest.mark.slow
def test_a_key_that_validation_let_through_twice_refuses_the_load(
    tmp_path, loaded_db, gx_runner, monkeypatch
):
    # Core keys are checked after the insert, not declared as primary keys: make validation miss
    # a repeated trial_id, and the write must refuse the load.
    import pipelines.load.validate as validate

    def issues_without_duplicate_keys(*args):
        found = {
            row: [i for i in issues if i.reason_code != "duplicate_key"]
            for row, issues in original(*args).items()
        }
        return {row: issues for row, issues in found.items() if issues}

    original = validate._issues
    monkeypatch.setattr(validate, "_issues", issues_without_duplicate_keys)
    before_bytes = _sha(loaded_db)
    twin = _csv(
        tmp_path, "twin", lambda t: t["trials"].append({**t["trials"][0], "outcome": "negative"})
    )
    with pytest.raises(
        LoadRefused, match=r"trials\.csv: accepted rows share a key \(trial_id\), e\.g\. T1;"
    ):
        _load(twin, loaded_db, gx_runner)
    assert _sha(loaded_db) == before_bytes
    assert not list(tmp_path.glob(".*loading*"))


@pytest.mark.slow
def test_load_succeeds_while_a_reader_has_the_warehouse_open(tmp_path, loaded_db, gx_runner):
    reader = duckdb.connect(str(loaded_db), read_only=True)
    changed = _csv(tmp_path, "changed", lambda t: t["trials"][0].update(outcome="negative"))
    _load(changed, loaded_db, gx_runner)
    # The open reader keeps its snapshot; a new open sees the new one.
    assert reader.execute("select outcome from core.trials").fetchall() == [("positive",)]
    reader.close()
    with duckdb.connect(str(loaded_db), read_only=True) as fresh:
        assert fresh.execute("select outcome from core.trials").fetchall() == [("negative",)]


# --- idempotence, sites, forms ----------------------------------------------------------------


@pytest.mark.slow
def test_same_extract_twice_gives_identical_core_tables(tmp_path, gx_runner):
    tables = base_extract()
    tables["patients"].append(
        {**tables["patients"][0], "patient_id": "P2", "nhs_number": "", "sex": "?"}
    )
    extract = write_csv_extract(tmp_path / "x", tables)
    db = tmp_path / "w.duckdb"
    first = _load(extract, db, gx_runner)
    core_once = _core(db)
    second = _load(extract, db, gx_runner)
    assert _core(db) == core_once
    assert second.reused_raw_from == first.load_id
    # Same bytes, as-of date, key and rules: the outcome is carried over, not re-validated.
    assert second.unchanged_from == first.load_id and "validate" not in second.timings
    assert second.tables == first.tables
    with duckdb.connect(str(db), read_only=True) as con:
        # Raw rows are not stored twice; each load keeps its own quarantine record.
        assert con.execute("select count(*) from staging.patients").fetchone()[0] == 2
        assert con.execute(
            "select load_id, count(*) from audit.quarantine group by 1 order by 1"
        ).fetchall() == [(1, 1), (2, 1)]
        assert con.execute("select site, load_id from audit.site_snapshots").fetchall() == [
            ("main", 2)
        ]


@pytest.mark.slow
def test_a_new_as_of_date_revalidates(tmp_path, gx_runner):
    tables = base_extract()
    tables["outcomes"][0]["assessment_date"] = "2024-07-01"  # after AS_OF, not after a day later
    extract = write_csv_extract(tmp_path / "x", tables)
    db = tmp_path / "w.duckdb"
    first = _load(extract, db, gx_runner)
    later = load_extract(extract, db, as_of=dt.date(2024, 7, 1), runner=gx_runner)
    assert later.unchanged_from is None and "validate" in later.timings
    assert (
        first.tables["outcomes"].rows_quarantined == 1
        and later.tables["outcomes"].rows_accepted == 1
    )
    with duckdb.connect(str(db), read_only=True) as con:  # the same rows: no new raw versions
        assert con.execute(
            "select distinct valid_from_load, valid_to_load from staging.outcomes"
        ).fetchall() == [(first.load_id, None)]


@pytest.mark.slow
def test_a_load_replaces_only_its_own_site(tmp_path, gx_runner):
    db = tmp_path / "w.duckdb"
    _load(write_csv_extract(tmp_path / "a", base_extract()), db, gx_runner, site="leeds")
    _load(write_csv_extract(tmp_path / "b", base_extract()), db, gx_runner, site="woolwich")
    smaller = _csv(tmp_path, "c", lambda t: t.update(outcomes=[]))
    _load(smaller, db, gx_runner, site="woolwich")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select site, count(*) from core.outcomes group by 1").fetchall() == [
            ("leeds", 1)
        ]
        assert con.execute(
            "select site, count(*) from core.patients group by 1 order by 1"
        ).fetchall() == [("leeds", 1), ("woolwich", 1)]


def _write_parquet(folder, tables):
    folder.mkdir()
    for name, rows in tables.items():
        pl.DataFrame(rows, schema={c: pl.String for c in TABLES[name].column_names}).write_parquet(
            folder / f"{name}.parquet"
        )
    return folder


def _write_xlsx(path, tables):
    """Dates as real date cells and numbers as numbers, as Excel would hold them."""
    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    for name, rows in tables.items():
        sheet = book.add_worksheet(name)
        spec = TABLES[name]
        for j, column in enumerate(spec.column_names):
            sheet.write_string(0, j, column)
            kind = spec.column(column).kind
            for i, row in enumerate(rows, start=1):
                value = row[column]
                if value == "":
                    continue
                if kind == "date":
                    sheet.write_datetime(i, j, dt.datetime.fromisoformat(value), date_format)
                elif kind == "number":
                    sheet.write_number(i, j, float(value))
                else:
                    sheet.write_string(i, j, value)
    book.close()
    return path


@pytest.mark.slow
def test_csv_parquet_and_xlsx_forms_give_identical_core_tables(tmp_path, gx_runner):
    tables = base_extract()
    results = {}
    for form, extract in (
        ("csv", write_csv_extract(tmp_path / "csv", tables)),
        ("parquet", _write_parquet(tmp_path / "parquet", tables)),
        ("xlsx", _write_xlsx(tmp_path / "extract.xlsx", tables)),
    ):
        db = tmp_path / f"{form}.duckdb"
        _load(extract, db, gx_runner)
        # source_file differs by form (patients.csv, patients.parquet, extract.xlsx[patients]).
        results[form] = {t: [r[:-2] for r in rows] for t, rows in _core(db).items()}
    assert results["csv"]["patients"], "the extract loaded no rows"
    assert results["csv"] == results["parquet"] == results["xlsx"]


# --- lineage and identifiers ------------------------------------------------------------------


@pytest.mark.slow
def test_raw_rows_keep_lineage_and_only_safe_identifiers(tmp_path, gx_runner):
    tables = base_extract()
    tables["patients"].append(
        {
            **tables["patients"][0],
            "patient_id": "P2",
            "nhs_number": "9990000042",
            "postcode": "not a postcode",
            "sex": "?",
        }
    )
    db = tmp_path / "w.duckdb"
    _load(write_csv_extract(tmp_path / "x", tables), db, gx_runner)
    with duckdb.connect(str(db), read_only=True) as con:
        raw = con.execute(
            "select valid_from_load, source_file, source_row, nhs_number, postcode "
            "from staging.patients "
            "order by source_row"
        ).fetchall()
        core_postcode = con.execute("select postcode_outward from core.patients").fetchall()
        record = json.loads(con.execute("select record from audit.quarantine").fetchone()[0])
    assert [r[:3] for r in raw] == [(1, "patients.csv", 2), (1, "patients.csv", 3)]
    assert all(re.fullmatch(r"[0-9a-f]{64}", r[3]) for r in raw)
    assert [r[4] for r in raw] == ["SE18", "[not a UK postcode: redacted]"]
    assert core_postcode == [("SE18",)]
    assert record["nhs_number"] == raw[1][3] and record["sex"] == "?"


@pytest.mark.slow
def test_no_nhs_number_in_clear_anywhere_in_the_database_file(tmp_path, gx_runner):
    numbers = {"P1": NHS_OK, "P2": "9990000042", "P3": "9990000043"}  # P3 fails Modulus 11
    tables = base_extract()
    tables["patients"] = [
        {**tables["patients"][0], "patient_id": p, "nhs_number": n} for p, n in numbers.items()
    ]
    db = tmp_path / "w.duckdb"
    _load(write_csv_extract(tmp_path / "x", tables), db, gx_runner)
    data = db.read_bytes()
    for number in numbers.values():
        digits = number.replace(" ", "")
        for form in (digits, f"{digits[:3]} {digits[3:6]} {digits[6:]}"):
            assert form.encode() not in data
            assert form.encode("utf-16-le") not in data


@pytest.mark.slow
def test_column_names_match_case_insensitively_and_extra_columns_are_reported(tmp_path, gx_runner):
    extract = write_csv_extract(tmp_path / "x", base_extract())
    text = (extract / "patients.csv").read_text()
    header, rest = text.split("\n", 1)
    header = ",".join(f" {c.upper()} " for c in header.split(",")) + ",ward"
    rest = "\n".join(line + ",7B" if line else line for line in rest.split("\n"))
    # A byte-order mark and CRLF line ends, as Excel writes them.
    (extract / "patients.csv").write_bytes(
        b"\xef\xbb\xbf" + (header + "\n" + rest).replace("\n", "\r\n").encode()
    )
    result = _load(extract, tmp_path / "w.duckdb", gx_runner)
    assert result.tables["patients"].rows_accepted == 1
    assert result.ignored_columns == {"patients": ["ward"]}


# --- the pseudonym key ---------------------------------------------------------------------------

VALID_KEY = (
    "a valid key is at least 16 characters; best, 64 random hex digits (openssl rand -hex 32)"
)


@pytest.mark.parametrize("case", ["short-variable", "short-file", "missing-file"])
def test_cli_unusable_pseudonym_key_is_one_line_with_exit_code_2(tmp_path, loaded_db, case):
    env = {k: v for k, v in os.environ.items() if k != "ITB_AUDIT_PSEUDONYM_KEY"}
    config = tmp_path / "itb-audit.toml"
    key_file = tmp_path / "pseudonym.key"
    if case == "short-variable":
        env["ITB_AUDIT_PSEUDONYM_KEY"] = "only-15-letters"
        expected = f"ITB_AUDIT_PSEUDONYM_KEY is too short (15 characters): {VALID_KEY}"
    elif case == "short-file":
        key_file.write_text("short\n")
        expected = f"pseudonym key file {key_file} is too short (5 characters): {VALID_KEY}"
    else:
        expected = f"pseudonym key file {key_file} does not exist: {VALID_KEY}"
    config.write_text(f'[load]\npseudonym_key_file = "{key_file}"\n')
    before = _sha(loaded_db)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "load",
            str(write_csv_extract(tmp_path / "x", base_extract())),
            "--db",
            str(loaded_db),
            "--as-of",
            AS_OF,
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"load refused: {expected}"]
    assert _sha(loaded_db) == before
