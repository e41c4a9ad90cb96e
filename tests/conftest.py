"""Shared test setup: a fixed pseudonym key, a private config home and private users file and
access log, so no test touches the developer's ~/.config or warehouse/ or depends on a
machine's key."""

from __future__ import annotations

import os
import resource
import time

import pytest

TEST_KEY = "test-pseudonym-key-0123456789abcdef"

# The session's throwaway PostgreSQL (`postgres` fixture), for the lake tests.
pytest_plugins = ("tests.fixtures.postgres",)


@pytest.fixture(autouse=True, scope="session")
def _isolated_keys(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ITB_AUDIT_PSEUDONYM_KEY", TEST_KEY)
        mp.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config-home")))
        mp.delenv("ITB_AUDIT_CONFIG", raising=False)
        # The users file and the access log too: never the demo's under warehouse/.
        access = tmp_path_factory.mktemp("access")
        mp.setenv("ITB_AUDIT_USERS", str(access / "users.json"))
        mp.setenv("ITB_AUDIT_ACCESS_LOG", str(access / "access-log.jsonl"))
        yield


@pytest.fixture(scope="session")
def gx_runner():
    """One GX context for the session: creating one costs about a second."""
    from pipelines.load.validate import GxRunner

    return GxRunner()


SAMPLE_AS_OF = "2026-11-01"


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory, gx_runner):
    """The bundled clean sample loaded once into a warehouse for the session."""
    import datetime as dt
    from pathlib import Path

    from pipelines.load.snapshot import load_extract

    db = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    sample = Path(__file__).resolve().parents[1] / "data_samples" / "clean"
    load_extract(sample, db, as_of=dt.date.fromisoformat(SAMPLE_AS_OF), runner=gx_runner)
    return db


# The fast loop stays fast: a test without a `slow` or `browser` mark that runs longer than this
# fails, so a slow test is marked rather than slipped into plain `pytest`. The limit is on the call
# phase only (a session fixture's one-off cost belongs to no single test), and on the lesser of
# wall time and CPU time (its own and its subprocesses'): a busy machine stretches the wall clock
# and DuckDB's threads stretch CPU time, but neither stretches both.
UNMARKED_LIMIT_SECONDS = float(os.environ.get("ITB_AUDIT_UNMARKED_LIMIT", "5"))


def _cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    started = _cpu_seconds()
    yield
    item.cpu_seconds = _cpu_seconds() - started


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.passed:
        return
    if any(any(item.iter_markers(name)) for name in ("slow", "browser")):
        return
    seconds = min(report.duration, getattr(item, "cpu_seconds", report.duration))
    if seconds > UNMARKED_LIMIT_SECONDS:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} took {seconds:.1f} s, over the "
            f"{UNMARKED_LIMIT_SECONDS:g} s allowed an unmarked test: "
            "mark it slow (or make it faster)"
        )


# Two Trusts on one warehouse (docs/access.md, "Sites"): every record id of site north starts
# with NOR, of site south with SOU, so a test can tell whose patients anything shows.
SITE_PREFIXES = {"north": "NOR", "south": "SOU"}


@pytest.fixture(scope="session")
def two_sites_db(tmp_path_factory, gx_runner):
    """Sites north and south loaded into one warehouse (tests.fixtures.extract_builder's
    site_extract: three patients each in 2024 and one quarantined patient each)."""
    import datetime as dt

    from pipelines.load.snapshot import load_extract
    from tests.fixtures.extract_builder import SITE_AS_OF, site_extract, write_csv_extract

    folder = tmp_path_factory.mktemp("two_sites")
    db = folder / "network.duckdb"
    for serial, (site, prefix) in enumerate(SITE_PREFIXES.items()):
        extract = write_csv_extract(folder / site, site_extract(prefix, 100 * (serial + 1)))
        load_extract(
            extract, db, site=site, as_of=dt.date.fromisoformat(SITE_AS_OF), runner=gx_runner
        )
    return db
