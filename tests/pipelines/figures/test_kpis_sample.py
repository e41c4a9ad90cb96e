"""`itb-audit kpis --json` end to end on the bundled sample, loaded by the real loader: every key
of docs/figures.md, with the JSON's number rules."""

from __future__ import annotations

import json
import subprocess
import sys

from pipelines.figures.kpis import flatten
from tests.pipelines.figures.test_kpis_json import assert_spec_keys


def test_kpis_json_on_the_sample_has_every_key_and_number_rule(sample_db):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "kpis",
            "--db",
            str(sample_db),
            "--start",
            "2025-11-02",
            "--end",
            "2026-11-01",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(proc.stdout)
    assert_spec_keys(figures)
    flat = flatten(figures)
    for key, value in flat.items():
        if key.endswith(("_ci_low", "_ci_high")) or value is None or isinstance(value, str):
            continue
        name = key.rsplit(".", 1)[-1]
        if name in ("rate", "rate_within_target", "patient_incidence", "dna_rate"):
            assert 0 <= value <= 1, key
            assert flat[f"{key}_ci_low"] <= value <= flat[f"{key}_ci_high"], key
        if isinstance(value, float):
            assert round(value, 6) == value, key
    # The sample is realistic enough that the figures are not empty.
    assert figures["waits"]["seen"] > 0 and figures["refills"]["on_time"] > 0
    assert (
        figures["complications"]["implanted_patients"] > 0
        and figures["battery"]["active_pumps"] > 0
    )
    assert all(
        isinstance(figures["activity"][k], int) for k in ("referrals_received", "refills", "trials")
    )
