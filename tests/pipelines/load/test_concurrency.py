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

from pipelines.figures.kpis import compute_kpis
from tests.conftest import SAMPLE_AS_OF, TEST_KEY

pytestmark = pytest.mark.slow
START, END = dt.date(2016, 1, 1), dt.date.fromisoformat(SAMPLE_AS_OF)


def test_readers_keep_working_while_a_load_swaps_the_warehouse(tmp_path, sample_db):
    db = tmp_path / "w.duckdb"
    db.write_bytes(sample_db.read_bytes())
    before = compute_kpis(db, START, END)
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
        while not stop.is_set():
            try:
                results.append(compute_kpis(db, START, END)["refills"]["on_time"])
            except Exception as e:  # the test fails on any error a reader meets
                errors.append(repr(e))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
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
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    after = compute_kpis(db, START, END)

    assert load.returncode == 0, load.stderr
    assert errors == []
    old, new = before["refills"]["on_time"], after["refills"]["on_time"]
    assert new < old
    # Every read saw one whole snapshot: the old figure or the new one, never another.
    assert set(results) <= {old, new} and old in results and len(results) > 20
