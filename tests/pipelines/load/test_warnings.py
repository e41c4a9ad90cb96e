"""Warning suites: referrals open longer than stale_referral_days are counted as an expectation
result at load, and kept (nothing quarantined); the waits mart flags them "to validate"."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.config import Settings
from pipelines.load.snapshot import load_extract
from tests.fixtures.extract_builder import base_extract, write_csv_extract

AS_OF = dt.date(2021, 1, 31)


def _referral(rid: str, received: str) -> dict[str, str]:
    return {
        "referral_id": rid,
        "patient_id": "P1",
        "received_date": received,
        "source": "gp_ers",
        "triage_outcome": "pending",
        "triage_date": "",
    }


def test_stale_open_referrals_are_counted_and_kept(tmp_path, gx_runner):
    extract = base_extract()
    extract["referrals"] += [
        _referral("R2", "2020-01-31"),  # open 366 days at as_of: to validate
        _referral("R3", "2020-02-01"),  # open exactly 365 days: not (longer than the setting)
        _referral("R4", "2019-01-01"),  # to validate
    ]
    folder = write_csv_extract(tmp_path / "extract", extract)
    db = tmp_path / "w.duckdb"
    load_extract(folder, db, as_of=AS_OF, runner=gx_runner, settings=Settings())
    with duckdb.connect(str(db), read_only=True) as con:
        result = con.execute(
            "select element_count, unexpected_count, success, reason_code from "
            "audit.expectation_results where suite = 'referrals_warnings'"
        ).fetchall()
        kept = con.execute("select count(*) from core.referrals").fetchone()[0]
        quarantined = con.execute("select count(*) from audit.quarantine").fetchone()[0]
    # R1 was seen; R2, R3, R4 are open; R2 and R4 are over 365 days.
    assert result == [(3, 2, False, "open_to_validate")]
    assert (kept, quarantined) == (4, 0)


def test_the_setting_moves_the_limit_and_the_fingerprint(tmp_path, gx_runner):
    extract = base_extract()
    extract["referrals"].append(_referral("R2", "2020-12-01"))  # open 61 days
    folder = write_csv_extract(tmp_path / "extract", extract)
    db = tmp_path / "w.duckdb"
    counts = []
    for days in (365, 60):
        load_extract(
            folder, db, as_of=AS_OF, runner=gx_runner, settings=Settings(stale_referral_days=days)
        )
        with duckdb.connect(str(db), read_only=True) as con:
            counts.append(
                con.execute(
                    "select unexpected_count from audit.expectation_results r join "
                    "audit.site_snapshots s using (load_id) where suite = 'referrals_warnings'"
                ).fetchone()[0]
            )
    assert counts == [0, 1]  # the second load was validated again, not carried over
