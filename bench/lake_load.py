"""Benchmark of loads into a lake (issue #14): three sites loading at once against the sum of
their separate loads.

    .venv/bin/python bench/lake_load.py [--patients 20000] [--work /tmp/itb-lake-load]

It generates one extract (`itb-audit generate`, cached in --work), starts a throwaway
PostgreSQL (tests/fixtures/postgres_server.py), and in one run, each load an `itb-audit load`
process:
  separate  sites A, B and C loaded one after another into a new lake: each load's wall time;
  at once   sites A, B and C started together into another new lake: the wall time until the
            last finishes, against the sum of the separate ones (target: at most 1.2x), and
            whether every load succeeded;
  file      the same extract loaded into a new warehouse file, for scale.
Every time is given with the CPU time of the process (user + system): the machine is shared,
so wall time alone says little. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmark import AS_OF, BIN, ROOT

sys.path.insert(0, str(ROOT))
from tests.fixtures.postgres_server import postgres_bin, running_postgres  # noqa: E402

SITES = ("A", "B", "C")


def load(extract: Path, db: str, site: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [BIN / "itb-audit", "load", extract, "--db", db, "--site", site, "--as-of", AS_OF,
         "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )  # fmt: skip


def finish(process: subprocess.Popen) -> tuple[bool, float]:
    """Wait for a load: whether it succeeded, and its CPU seconds (user + system)."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    printed = process.stdout.read().decode() if process.stdout else ""
    ok = process.returncode == 0 and '"load_id"' in printed
    if not ok and process.stderr:
        print(process.stderr.read().decode().strip(), file=sys.stderr)
    return ok, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=20000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/itb-lake-load"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    extract = args.work / f"extract-{args.patients}"
    if not extract.exists():
        subprocess.run(
            [BIN / "itb-audit", "generate", extract, "--patients", str(args.patients),
             "--as-of", AS_OF],
            check=True,
            capture_output=True,
        )  # fmt: skip
    bin_dir = postgres_bin()
    if bin_dir is None:
        sys.exit("PostgreSQL is not installed (make postgres-deps)")
    env = {**os.environ, "ITB_AUDIT_PSEUDONYM_KEY": "benchmark-key-0123456789abcdef"}
    rows = []
    with running_postgres(bin_dir) as server:
        env["PGPASSWORD"] = server.password
        run = f"{time.time_ns()}"
        separate = server.new_lake(args.work / f"separate-{run}")
        times = []
        for site in SITES:
            t0 = time.perf_counter()
            ok, cpu = finish(load(extract, separate, site, env))
            times.append(time.perf_counter() - t0)
            rows.append((f"separate, site {site}", times[-1], cpu, ok))
        together = server.new_lake(args.work / f"together-{run}")
        t0 = time.perf_counter()
        started = [load(extract, together, site, env) for site in SITES]
        outcomes = [finish(p) for p in started]
        at_once = time.perf_counter() - t0
        rows.append(
            (
                "at once, sites A, B, C",
                at_once,
                sum(cpu for _, cpu in outcomes),
                all(ok for ok, _ in outcomes),
            )
        )
        t0 = time.perf_counter()
        ok, cpu = finish(load(extract, str(args.work / f"file-{run}.duckdb"), "A", env))
        rows.append(("file, site A", time.perf_counter() - t0, cpu, ok))
    print(f"{args.patients:,} patients per site\n")
    print("| load | wall s | CPU s | succeeded |\n|---|---:|---:|---|")
    for name, wall, cpu, ok in rows:
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {'yes' if ok else 'NO'} |")
    ratio = at_once / sum(times)
    print(
        f"\nat once / sum of separate: {at_once:.1f} / {sum(times):.1f} s = {ratio:.2f}x "
        f"(target <= 1.2x: {'met' if ratio <= 1.2 else 'NOT met'})"
    )
    print(json.dumps({"patients": args.patients, "ratio": round(ratio, 3)}))


if __name__ == "__main__":
    main()
