"""The access log: append-only JSON lines, private, safe under concurrent writers, and never an
NHS number."""

from __future__ import annotations

import stat
import threading

from pipelines.access import log as access_log


def test_events_are_appended_as_json_lines_and_read_newest_first(tmp_path):
    path = tmp_path / "log" / "access.jsonl"
    access_log.append(path, user="ann", role="clinician", event="view", page="waits", site="main")
    access_log.append(
        path,
        user="ann",
        role="clinician",
        event="download",
        page="waits",
        table="open waiting list",
        rows=3,
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    events = access_log.read(path)
    assert list(events["event"]) == ["download", "view"]
    assert list(events.columns) == access_log.COLUMNS
    assert '"rows": 3' in events.loc[0, "detail"]
    assert list(access_log.read(path, limit=1)["event"]) == ["download"]
    assert access_log.read(tmp_path / "none.jsonl").empty


def test_nothing_shaped_like_an_nhs_number_is_logged(tmp_path):
    path = tmp_path / "access.jsonl"
    access_log.append(
        path,
        user="943 476 5919",
        role=None,
        event="sign_in_refused",
        search="patient 9434765919 and 943-476-5919",
        dates="2026-11-01",
        count=12,
    )
    text = path.read_text()
    for shape in ("9434765919", "943 476 5919", "943-476-5919"):
        assert shape not in text
    assert text.count(access_log.REMOVED) == 3 and "2026-11-01" in text


def test_concurrent_writers_never_interleave_or_lose_a_line(tmp_path):
    path = tmp_path / "access.jsonl"

    def write(worker: int) -> None:
        for i in range(200):
            access_log.append(
                path,
                user=f"user{worker}",
                role="clinician",
                event="view",
                page="overview",
                n=i,
                padding="x" * 500,
            )

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = access_log.read(path)
    assert len(events) == 1600 and len(path.read_text().splitlines()) == 1600


def test_a_line_cut_short_by_a_crash_is_skipped(tmp_path):
    path = tmp_path / "access.jsonl"
    access_log.append(path, user="ann", role="clinician", event="view")
    with path.open("a") as f:
        f.write('{"time": "2026-')
    assert list(access_log.read(path)["user"]) == ["ann"]
