"""Next month's extract (`generate --evolve`): determinism, the share of new or changed rows,
existing rows kept byte for byte, dates up to the new as-of date, and a clean load."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.contract import TABLES
from pipelines.synthetic.evolve import Evolution, evolve_extract, next_month
from pipelines.synthetic.generate import generate_extract

AS_OF = dt.date(2026, 11, 1)
NEW_AS_OF = dt.date(2026, 12, 1)
PATIENTS = 2000
SEED = 5


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Evolution]:
    root = tmp_path_factory.mktemp("evolve")
    generate_extract(root / "before", patients=PATIENTS, seed=SEED, as_of=AS_OF, fmt="csv")
    evolution = evolve_extract(root / "before", root / "after", seed=SEED, as_of=AS_OF)
    return root / "before", root / "after", evolution


def _lines(folder: Path, table: str) -> list[str]:
    return (folder / f"{table}.csv").read_text().splitlines()[1:]


def _key(line: str, table: str) -> str:
    return ",".join(line.split(",")[: len(TABLES[table].key)]) if table == "outcomes" else line[:8]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 11, 1), dt.date(2026, 12, 1)),
        (dt.date(2026, 12, 15), dt.date(2027, 1, 15)),
        (dt.date(2027, 1, 31), dt.date(2027, 2, 28)),
        (dt.date(2028, 1, 31), dt.date(2028, 2, 29)),  # a leap year
        (dt.date(2027, 3, 31), dt.date(2027, 4, 30)),
    ],
)
def test_next_month_is_the_same_day_or_the_months_last(day: dt.date, expected: dt.date) -> None:
    assert next_month(day) == expected


def test_same_seed_gives_identical_files(months, tmp_path: Path) -> None:
    before, after, _ = months
    evolve_extract(before, tmp_path / "again", seed=SEED, as_of=AS_OF)
    for table in TABLES:
        assert (tmp_path / "again" / f"{table}.csv").read_bytes() == (
            after / f"{table}.csv"
        ).read_bytes(), table
    evolve_extract(before, tmp_path / "other", seed=SEED + 1, as_of=AS_OF)
    assert (tmp_path / "other" / "refills.csv").read_bytes() != (after / "refills.csv").read_bytes()


def test_about_two_percent_of_rows_are_new_or_changed(months) -> None:
    before, after, evolution = months
    assert evolution.as_of == NEW_AS_OF
    assert 0.015 <= evolution.share <= 0.025, evolution
    rows_before = sum(len(_lines(before, t)) for t in TABLES)
    assert sum(evolution.rows_before.values()) == rows_before
    for table in TABLES:  # the counts are the files' rows
        assert len(_lines(after, table)) == (
            len(_lines(before, table)) + evolution.new[table] - evolution.deleted[table]
        ), table
    # Every kind of change happens: new rows of the pathway, corrections and deletions.
    for table in ("patients", "referrals", "appointments", "trials", "implants", "refills"):
        assert evolution.new[table] > 0, table
    assert evolution.changed["patients"] > 0
    assert evolution.changed["appointments"] > 0
    assert evolution.changed["refills"] > 0
    assert evolution.deleted["appointments"] > 0


def test_existing_rows_keep_their_text_and_order(months) -> None:
    """Kept rows come first, in their order, byte for byte except the changed ones; the new
    rows follow."""
    before, after, evolution = months
    for table in TABLES:
        old, new = _lines(before, table), _lines(after, table)
        new_keys = {_key(line, table) for line in new}
        kept = [line for line in old if _key(line, table) in new_keys]
        assert len(old) - len(kept) == evolution.deleted[table], table
        head = new[: len(kept)]
        assert [_key(x, table) for x in head] == [_key(x, table) for x in kept], table
        differing = sum(a != b for a, b in zip(head, kept, strict=True))
        assert differing == evolution.changed[table], table
        old_keys = {_key(line, table) for line in old}
        assert not any(_key(line, table) in old_keys for line in new[len(kept) :]), table


def test_no_event_after_the_new_as_of_date(months) -> None:
    """Planned dates (next refill due, battery indicator) may lie ahead; nothing else may."""
    _, after, _ = months
    for name, table in TABLES.items():
        frame = pl.read_csv(after / f"{name}.csv", infer_schema=False)
        for column in table.columns:
            if column.kind != "date" or column.planned:
                continue
            days = frame.select(
                pl.coalesce(
                    pl.col(column.name).str.strptime(pl.Date, "%Y-%m-%d", strict=False),
                    pl.col(column.name).str.strptime(pl.Date, "%d/%m/%Y", strict=False),
                )
            ).to_series()
            assert days.null_count() == frame[column.name].null_count(), (name, column.name)
            assert days.max() <= NEW_AS_OF, (name, column.name)  # type: ignore[operator]


def test_cli_evolves_and_refuses_a_folder_that_is_no_extract(months, tmp_path: Path) -> None:
    before, after, evolution = months
    result = CliRunner().invoke(
        app,
        ["generate", str(tmp_path / "cli"), "--evolve", str(before), "--seed", str(SEED)],
    )
    assert result.exit_code == 0, result.output
    assert f"new or changed: {evolution.share:.2%}" in result.output
    assert (tmp_path / "cli" / "refills.csv").read_bytes() == (after / "refills.csv").read_bytes()
    refused = CliRunner().invoke(app, ["generate", str(tmp_path / "x"), "--evolve", str(tmp_path)])
    assert refused.exit_code == 2
    words = " ".join(re.sub(r"[│╭╮╰╯─]", " ", refused.output).split())  # rich's box
    assert "not a generated CSV or Parquet extract folder" in words
    assert "Traceback" not in refused.output


@pytest.mark.slow
def test_evolved_extract_loads_with_nothing_quarantined(months, tmp_path: Path, gx_runner) -> None:
    """The generator's extracts are clean, and so is the month after: every row accepted."""
    from pipelines.load.snapshot import load_extract

    before, after, evolution = months
    db = tmp_path / "w.duckdb"
    first = load_extract(before, db, as_of=AS_OF, runner=gx_runner)
    second = load_extract(after, db, as_of=NEW_AS_OF, runner=gx_runner)
    for result, rows in ((first, evolution.rows_before), (second, None)):
        for table, counts in result.tables.items():
            assert counts.rows_quarantined == 0, (table, counts)
            if rows is not None:
                assert counts.rows_read == rows[table]


def test_a_parquet_extract_evolves_to_parquet_with_its_rows_kept(tmp_path: Path) -> None:
    generate_extract(tmp_path / "before", patients=200, seed=SEED, as_of=AS_OF, fmt="parquet")
    evolution = evolve_extract(tmp_path / "before", tmp_path / "after", seed=SEED, as_of=AS_OF)
    assert not list((tmp_path / "after").glob("*.csv"))
    old = pl.read_parquet(tmp_path / "before" / "refills.parquet")
    new = pl.read_parquet(tmp_path / "after" / "refills.parquet")
    assert new.height == old.height + evolution.new["refills"]
    kept = new.head(old.height)
    assert kept["refill_id"].to_list() == old["refill_id"].to_list()
    differing = sum(a != b for a, b in zip(kept.iter_rows(), old.iter_rows(), strict=True))
    assert differing == evolution.changed["refills"]


def test_a_pump_whose_battery_indicator_is_on_is_replaced_that_day(months) -> None:
    """The old pump's row gains its explant (battery end of life); a replacement pump for the
    same patient goes in the same day, as the generator replaces pumps."""
    before, after, evolution = months
    old = pl.read_csv(before / "implants.csv", infer_schema=False)
    new = pl.read_csv(after / "implants.csv", infer_schema=False)
    changed = (
        new.head(old.height)
        .join(old, on="implant_id", suffix="_before")
        .filter(pl.col("explant_date").ne_missing(pl.col("explant_date_before")))
    )
    assert changed.height == evolution.changed["implants"] > 0
    assert changed["explant_reason"].unique().to_list() == ["battery_end_of_life"]
    assert changed["explant_date_before"].null_count() == changed.height
    added = new.tail(evolution.new["implants"])
    for row in changed.iter_rows(named=True):
        same = added.filter(
            (pl.col("patient_id") == row["patient_id"])
            & (pl.col("implant_date") == row["explant_date"])
        )
        assert same["procedure"].to_list() == ["replacement"], row
