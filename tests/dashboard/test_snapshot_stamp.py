"""The dashboard's snapshot stamp (the key of every cached result): a file's is asked every
time (a stat), a lake's at most once per STAMP_SECONDS per process (a catalog query)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from dashboard import data

LAKE = "ducklake+postgresql://itb@127.0.0.1:5432/lake?data_path=/srv/lake/"


def counting(monkeypatch) -> list[str]:
    asked: list[str] = []

    def stamp(db):
        asked.append(db)
        return (len(asked),)

    monkeypatch.setattr(data, "warehouse_stamp", stamp)
    monkeypatch.setattr(data, "_stamps", {})
    return asked


def test_a_lake_is_asked_once_per_interval_and_a_new_snapshot_shows_after_it(monkeypatch):
    asked = counting(monkeypatch)
    clock = [100.0]
    monkeypatch.setattr(data.time, "monotonic", lambda: clock[0])
    monkeypatch.setenv("ITB_AUDIT_DB", LAKE)
    assert [data.snapshot_stamp() for _ in range(20)] == [(1,)] * 20  # a page run's many asks
    assert asked == [LAKE]
    clock[0] += data.STAMP_SECONDS - 0.01
    assert data.snapshot_stamp() == (1,)
    clock[0] += 0.02
    assert data.snapshot_stamp() == (2,)  # a load committed meanwhile shows now
    assert len(asked) == 2


def test_a_file_is_asked_every_time(monkeypatch, tmp_path):
    asked = counting(monkeypatch)
    monkeypatch.setenv("ITB_AUDIT_DB", str(tmp_path / "w.duckdb"))
    assert [data.snapshot_stamp() for _ in range(3)] == [(1,), (2,), (3,)]
    assert len(asked) == 3


def test_threads_asking_at_once_wait_for_one_answer(monkeypatch):
    """A page's threads ask together: one asks the lake, the others wait for its answer (on a
    busy machine the query takes longer than the interval, and each asking would never end)."""
    asked: list[str] = []

    def slow_stamp(db):
        asked.append(db)
        time.sleep(0.2)
        return (7,)

    monkeypatch.setattr(data, "warehouse_stamp", slow_stamp)
    monkeypatch.setattr(data, "_stamps", {})
    monkeypatch.setenv("ITB_AUDIT_DB", LAKE)
    with ThreadPoolExecutor(8) as pool:
        stamps = list(pool.map(lambda _: data.snapshot_stamp(), range(8)))
    assert stamps == [(7,)] * 8 and asked == [LAKE]
