"""Loads and readers at once: readers (as the dashboard does: a short read-only open per query)
loop while a load of a new extract runs in another process. No read fails or sees a partial or
empty snapshot, the load succeeds, and the new data is visible to the next open."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipelines.config import Settings
from pipelines.figures.kpis import Scope, section_figures
from pipelines.warehouse import reading
from tests.conftest import SAMPLE_AS_OF, TEST_KEY

pytestmark = pytest.mark.slow
SCOPE = Scope(dt.date(2016, 1, 1), dt.date.fromisoformat(SAMPLE_AS_OF), None, Settings())
PACE = 0.1  # seconds between one reader's reads: the load keeps its CPU, and ~120 reads overlap it


def on_time(db: Path) -> int:
    """The refills on time, read as the dashboard reads a figure: a short read-only open, the
    section's marts each on a cursor of its own, at once."""
    with reading(db) as con:
        return section_figures(con, SCOPE, ["refills"])["refills"]["on_time"]


def poll(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_readers_keep_working_while_a_load_swaps_the_warehouse(tmp_path, sample_db):
    db = tmp_path / "w.duckdb"
    db.write_bytes(sample_db.read_bytes())
    old = on_time(db)
    # The new extract: the sample without its refills after 2026-01-01 (a visibly different
    # snapshot).
    extract = tmp_path / "new"
    extract.mkdir()
    source = Path(__file__).resolve().parents[3] / "data_samples" / "clean"
    for f in source.iterdir():
        lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
        if f.name == "refills.csv":
            lines = [lines[0]] + [line for line in lines[1:] if line.split(",")[3] < "2026-01-01"]
        (extract / f.name).write_text("".join(lines), encoding="utf-8")

    results, errors, stop = [], [], threading.Event()

    def reader() -> None:
        while not stop.wait(PACE):
            try:
                results.append(on_time(db))
            except Exception as e:  # the test fails on any error a reader meets
                errors.append(repr(e))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        poll(lambda: len(results) + len(errors) >= 4)  # the readers read the old snapshot
        load = subprocess.run(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "load",
                str(extract),
                "--db",
                str(db),
                "--as-of",
                SAMPLE_AS_OF,
                "--json",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "ITB_AUDIT_PSEUDONYM_KEY": TEST_KEY},
        )
        assert load.returncode == 0, load.stderr
        new = on_time(db)
        poll(lambda: new in results or bool(errors))  # and the new one
    finally:
        stop.set()
        for t in threads:
            t.join()

    assert errors == []
    assert new < old
    # Every read saw one whole snapshot: the old figure or the new one, never another.
    assert set(results) <= {old, new} and old in results and len(results) > 20
