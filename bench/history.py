"""Benchmark of monthly reloads (issue #13): a first load, then a year of evolved monthly extracts.

    .venv/bin/python bench/history.py [--patients 20000] [--months 12] [--work /tmp/itb-history]

It generates an extract as of 2026-11-01 and evolves it month by month (`itb-audit generate
--evolve`, about 2% of rows new or changed each month; cached in --work), then in one run, each
command in a fresh process:
  first load  `itb-audit load` of the first extract into an empty warehouse;
  reload      `itb-audit load` of each month's extract into the same warehouse, its wall time, and
              the warehouse's size on disk after it;
  anchor      bare DuckDB reading the same month's CSVs into typed tables (bench/benchmark.py's
              anchor, imported), beside each load;
Loads and anchors are timed in wall and CPU seconds (user + sys of the process and its threads:
on a shared machine the CPU time is what the load stretches least), with the load average.
  kpis        `itb-audit kpis --json` for the 12 months to that month's as-of date, right after
              each load; and, when the CLI has `--as-loaded`, the same figures recomputed for every
              load at the end: their time and whether the JSON is byte-identical to the one printed
              right after that load.
It prints a markdown table and the issue's targets. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmark import ANCHOR_LOAD, AS_OF, BIN, ROOT, measure

sys.path.insert(0, str(ROOT))
from pipelines.synthetic.evolve import next_month  # noqa: E402

ENV = {"ITB_AUDIT_PSEUDONYM_KEY": "benchmark-key-0123456789abcdef"}


def extracts(work: Path, patients: int, months: int) -> list[tuple[Path, dt.date, float | None]]:
    """(folder, as-of, share of rows new or changed) of the first extract and each month's."""
    as_of = dt.date.fromisoformat(AS_OF)
    first = work / f"extract-{patients}-{as_of}"
    if not first.exists():
        subprocess.run(
            [BIN / "itb-audit", "generate", first, "--patients", str(patients), "--as-of", AS_OF],
            check=True,
            capture_output=True,
        )
    out: list[tuple[Path, dt.date, float | None]] = [(first, as_of, None)]
    for _ in range(months):
        source, as_of = out[-1][0], out[-1][1]
        folder = work / f"extract-{patients}-{next_month(as_of)}"
        shares = folder.with_suffix(".share")  # the share, beside the folder, not in the extract
        if not folder.exists():
            printed = subprocess.run(
                [BIN / "itb-audit", "generate", folder, "--evolve", source, "--as-of", str(as_of)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            last = printed.strip().splitlines()[-1]  # "new or changed: 1.96% of ..."
            shares.write_text(last.split(": ")[1].split("%")[0])
        out.append((folder, next_month(as_of), float(shares.read_text()) / 100))
    return out


def load(extract: Path, db: Path, as_of: dt.date) -> tuple[float, float, dict]:
    """Wall and CPU seconds (user + sys, every thread) of the load, and its summary."""
    result = measure(
        [str(BIN / "itb-audit"), "load", str(extract), "--db", str(db), "--as-of", str(as_of)]
        + ["--json"],
        ENV,
    )
    return result["seconds"], result["cpu_seconds"], json.loads(result["stdout"])


def anchor(extract: Path, work: Path) -> tuple[float, float]:
    """Wall and CPU seconds of the bare-DuckDB anchor."""
    db = work / "anchor.duckdb"
    db.unlink(missing_ok=True)
    code = ANCHOR_LOAD.format(root=str(ROOT), db=str(db))
    result = measure([sys.executable, "-c", code, str(extract)])
    return result["seconds"], result["cpu_seconds"]


def kpis(db: Path, as_of: dt.date, *extra: str) -> tuple[float, str]:
    start = as_of.replace(year=as_of.year - 1) + dt.timedelta(days=1)
    result = measure(
        [str(BIN / "itb-audit"), "kpis", "--db", str(db), "--start", str(start), "--end"]
        + [str(as_of), "--json", *extra],
        ENV,
    )
    return result["seconds"], result["stdout"]


def size_mb(db: Path) -> float:
    files = [db, db.with_name(db.name + ".wal")]
    return sum(f.stat().st_size for f in files if f.exists()) / 1e6


def has_as_loaded() -> bool:
    help_text = subprocess.run(
        [BIN / "itb-audit", "kpis", "--help"], capture_output=True, text=True, env=os.environ
    ).stdout
    return "--as-loaded" in help_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "itb-history")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    months = extracts(args.work, args.patients, args.months)
    db = args.work / "warehouse.duckdb"
    for f in (db, db.with_name(db.name + ".wal")):
        f.unlink(missing_ok=True)
    rows = []
    for extract, as_of, share in months:
        seconds, cpu, summary = load(extract, db, as_of)
        kpi_seconds, kpi_json = kpis(db, as_of)
        anchor_s, anchor_cpu = anchor(extract, args.work)
        rows.append(
            {
                "as_of": as_of,
                "share": share,
                "rows": sum(t["rows_read"] for t in summary["tables"].values()),
                "quarantined": sum(t["rows_quarantined"] for t in summary["tables"].values()),
                "load_id": summary["load_id"],
                "load_s": seconds,
                "load_cpu": cpu,
                "anchor_s": anchor_s,
                "anchor_cpu": anchor_cpu,
                "load_average": os.getloadavg()[0],
                "size_mb": size_mb(db),
                "kpis_s": kpi_seconds,
                "kpis_json": kpi_json,
            }
        )
    as_loaded = has_as_loaded()
    if as_loaded:
        for row in rows:
            seconds, again = kpis(db, row["as_of"], "--as-loaded", str(row["load_id"]))
            row["as_loaded_s"], row["identical"] = seconds, again == row["kpis_json"]
    print(
        f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; "
        f"{time.strftime('%Y-%m-%d')}; {args.patients} patients"
    )
    print()
    first = rows[0]
    header = [
        "load",
        "as of",
        "rows",
        "new or changed",
        "quarantined",
        "load s",
        "anchor s",
        "load/anchor",
        "load/first load",
        "load CPU s",
        "anchor CPU s",
        "CPU load/anchor",
        "CPU load/first load",
        "load average",
        "warehouse MB",
        "size/after first",
        "kpis s",
    ]
    if as_loaded:
        header += ["--as-loaded s", "as-loaded/current", "JSON identical"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for i, row in enumerate(rows):
        cells = [
            "first" if i == 0 else f"reload {i}",
            str(row["as_of"]),
            str(row["rows"]),
            "—" if row["share"] is None else f"{row['share']:.2%}",
            str(row["quarantined"]),
            f"{row['load_s']:.1f}",
            f"{row['anchor_s']:.2f}",
            f"{row['load_s'] / row['anchor_s']:.1f}x",
            f"{row['load_s'] / first['load_s']:.0%}",
            f"{row['load_cpu']:.1f}",
            f"{row['anchor_cpu']:.2f}",
            f"{row['load_cpu'] / row['anchor_cpu']:.1f}x",
            f"{row['load_cpu'] / first['load_cpu']:.0%}",
            f"{row['load_average']:.1f}",
            f"{row['size_mb']:.0f}",
            f"{row['size_mb'] / first['size_mb']:.2f}x",
            f"{row['kpis_s']:.2f}",
        ]
        if as_loaded:
            cells += [
                f"{row['as_loaded_s']:.2f}",
                f"{row['as_loaded_s'] / row['kpis_s']:.2f}x",
                "yes" if row["identical"] else "NO",
            ]
        print("| " + " | ".join(cells) + " |")
    print()
    if len(rows) > 2:
        reloads = rows[1:]
        worst = max(r["load_s"] / r["anchor_s"] for r in reloads)
        print(f"- reload / anchor, worst month: {worst:.1f}x (target <= 2x)")
        share = max(r["load_s"] / first["load_s"] for r in reloads)
        print(f"- reload / first load, worst month: {share:.0%} (target <= 25%)")
        growth = rows[-1]["size_mb"] / first["size_mb"]
        print(f"- warehouse after the last reload / after the first load: {growth:.2f}x")
        print("  (target <= 1.5x)")
        worst = max(r["load_cpu"] / r["anchor_cpu"] for r in reloads)
        print(f"- the same in CPU seconds: reload / anchor, worst month {worst:.1f}x;")
        share = max(r["load_cpu"] / first["load_cpu"] for r in reloads)
        print(f"  reload / first load, worst month {share:.0%}")
        last_vs_second = rows[-1]["load_s"] / rows[2]["load_s"]
        print(f"- last reload / 2nd reload: {last_vs_second:.2f}x (target <= 1.1x)")
        last_vs_second = rows[-1]["load_cpu"] / rows[2]["load_cpu"]
        print(f"  in CPU seconds: {last_vs_second:.2f}x")
    if not as_loaded:
        print("- `kpis --as-loaded` is not in this CLI: figures as loaded not measured")


if __name__ == "__main__":
    main()
