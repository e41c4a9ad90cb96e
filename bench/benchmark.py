"""Benchmarks: load and KPI figures against bare-DuckDB anchors, at several extract sizes.

    .venv/bin/python bench/benchmark.py [--sizes 2000 20000] [--work /tmp/itb-bench]

For each size it generates a synthetic extract (cached in --work), then measures, each in a
fresh process so that peak memory is the command's own:
  load        `itb-audit load` end to end: wall time, peak RSS, and its split (read, validate,
              of which Great Expectations, and the write left after validation: tables are
              written while the next one is validated);
  monthly     a reload of next month's extract (bench/monthly.py: 2% of rows new or changed, as
              of a month later) after that load: incremental, and with --full-validation;
  anchor      bare DuckDB reading the same CSVs into typed tables (read_csv with the types);
  kpis        `itb-audit kpis --json` end to end, and compute_kpis in-process;
  kpis anchor the same mart SQL (queries/marts + macros) run bare in DuckDB, rows fetched: in a
              fresh process of its own (against the CLI) and in-process (against compute_kpis);
and prints a table of the figures and their ratios. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from monthly import evolve  # bench/monthly.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
AS_OF = "2026-11-01"
NEXT_AS_OF = "2026-12-01"  # the monthly reload's
PERIOD = ("2025-11-02", AS_OF)  # the 12 months to the extract's as-of date

# Runs a command and reports its wall time and the peak RSS of its process tree's largest
# child (ru_maxrss of RUSAGE_CHILDREN, KiB on Linux).
MEASURE = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - t,
                  "cpu_seconds": used.ru_utime + used.ru_stime,
                  "peak_mb": used.ru_maxrss / 1024,
                  "returncode": p.returncode, "stdout": p.stdout, "stderr": p.stderr[-2000:]}))
"""

ANCHOR_LOAD = """
import sys, time, duckdb
sys.path.insert(0, {root!r})
from pipelines.contract import TABLES
DUCK = {{"date": "DATE", "number": "DOUBLE", "boolean": "BOOLEAN"}}
con = duckdb.connect({db!r})
for name, spec in TABLES.items():
    types = {{c.name: DUCK.get(c.kind, "VARCHAR") for c in spec.columns}}
    # The generator writes some dates as DD/MM/YYYY: read dates as text and parse both forms,
    # the least a typed load must do.
    text = {{c: ("VARCHAR" if t == "DATE" else t) for c, t in types.items()}}
    cols = ", ".join(
        f"coalesce(try_strptime({{c}}, '%Y-%m-%d'), try_strptime({{c}}, '%d/%m/%Y'))::DATE as {{c}}"
        if t == "DATE" else f"{{c}}" for c, t in types.items())
    con.execute(f"create table {{name}} as select {{cols}} from read_csv(?, header=true, "
                "columns=?, auto_detect=false)",
                [f"{{sys.argv[1]}}/{{name}}.csv", text])
con.close()
"""


# The figures' anchor as a process: Python, DuckDB and the mart SQL, nothing of the project's.
ANCHOR_KPIS = """
import datetime as dt, json, sys, duckdb
db, macros, params, *marts = sys.argv[1:]
DAYS = ("start", "end", "as_of", "period_starts", "period_ends")
def day(v):
    return [day(d) for d in v] if isinstance(v, list) else dt.date.fromisoformat(v)
params = {k: day(v) if k in DAYS else v for k, v in json.loads(params).items()}
con = duckdb.connect(db, read_only=True)
con.execute(open(macros).read())
for mart in marts:
    sql = open(mart).read()
    (statement,) = con.extract_statements(sql)
    con.execute(sql, {k: params[k] for k in statement.named_parameters}).to_arrow_table()
"""


def measure(cmd: list[str], env: dict | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *cmd],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    result = json.loads(out.stdout)
    if result["returncode"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {result['stderr']}")
    return result


def kpi_scope():
    import datetime as dt

    sys.path.insert(0, str(ROOT))
    from pipelines.config import load_settings
    from pipelines.figures.kpis import SECTIONS, Scope

    scope = Scope(
        dt.date.fromisoformat(PERIOD[0]), dt.date.fromisoformat(PERIOD[1]), None, load_settings()
    )
    from pipelines.config import QUERIES_DIR

    # A section may name a cohort of a mart (outcomes_12m: the outcomes mart's 12-month cohort),
    # which has no SQL file of its own: the anchor runs each mart's file once.
    named = dict.fromkeys(m for section in SECTIONS.values() for m in section.marts)
    return scope, [m for m in named if (QUERIES_DIR / "marts" / f"{m}.sql").exists()]


def bare_kpi_sql(db: Path) -> float:
    """Seconds to run every mart's SQL bare in DuckDB (macros, bound parameters, rows fetched)."""
    import duckdb

    from pipelines.figures.queries import MACROS
    from pipelines.warehouse import sql_text

    scope, marts = kpi_scope()
    con = duckdb.connect(str(db), read_only=True)
    con.execute(sql_text(MACROS))
    params = scope.params()
    started = time.perf_counter()
    for mart in marts:
        sql = sql_text(f"marts/{mart}")
        (statement,) = con.extract_statements(sql)
        con.execute(sql, {k: params[k] for k in statement.named_parameters}).to_arrow_table()
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def bare_kpi_process(db: Path) -> float:
    """Wall seconds of a fresh process that runs the same SQL bare (ANCHOR_KPIS)."""
    import datetime as dt

    from pipelines.config import QUERIES_DIR

    scope, marts = kpi_scope()

    def text(v):
        if isinstance(v, list):
            return [text(d) for d in v]
        return v.isoformat() if isinstance(v, dt.date) else v

    params = {k: text(v) for k, v in scope.params().items()}
    macros = QUERIES_DIR / "macros" / "shared.sql"
    return measure(
        [
            sys.executable,
            "-c",
            ANCHOR_KPIS,
            str(db),
            str(macros),
            json.dumps(params),
            *(str(QUERIES_DIR / "marts" / f"{m}.sql") for m in marts),
        ]
    )["seconds"]


def in_process_kpis(db: Path) -> float:
    import datetime as dt

    sys.path.insert(0, str(ROOT))
    from pipelines.figures.kpis import compute_kpis

    compute_kpis(
        db, dt.date.fromisoformat(PERIOD[0]), dt.date.fromisoformat(PERIOD[1])
    )  # warm caches
    started = time.perf_counter()
    compute_kpis(db, dt.date.fromisoformat(PERIOD[0]), dt.date.fromisoformat(PERIOD[1]))
    return time.perf_counter() - started


def run_size(n: int, work: Path, env: dict) -> dict:
    extract = work / f"extract-{n}"
    if not extract.exists():
        subprocess.run(
            [
                BIN / "itb-audit",
                "generate",
                extract,
                "--patients",
                str(n),
                "--seed",
                "1",
                "--as-of",
                AS_OF,
            ],
            check=True,
            capture_output=True,
        )
    rows = sum(sum(1 for _ in open(f)) - 1 for f in extract.glob("*.csv"))
    db = work / f"warehouse-{n}.duckdb"
    db.unlink(missing_ok=True)
    load = measure(
        [str(BIN / "itb-audit"), "load", str(extract), "--db", str(db), "--as-of", AS_OF, "--json"],
        env,
    )
    timings = json.loads(load["stdout"])["timings_seconds"]
    reload = measure(
        [str(BIN / "itb-audit"), "load", str(extract), "--db", str(db), "--as-of", AS_OF, "--json"],
        env,
    )
    following = work / f"extract-{n}-next"
    if not following.exists():
        evolve(extract, following)
    monthly = {}
    for mode in ("incremental", "full"):
        target = db if mode == "incremental" else work / f"warehouse-{n}-full.duckdb"
        if mode == "full":
            shutil.copyfile(work / f"warehouse-{n}-first.duckdb", target)
        else:
            shutil.copyfile(db, work / f"warehouse-{n}-first.duckdb")
        options = ["--full-validation"] if mode == "full" else []
        monthly[mode] = measure(
            [str(BIN / "itb-audit"), "load", str(following), "--db", str(target)]
            + ["--as-of", NEXT_AS_OF, "--json", *options],
            env,
        )
    through_gx = sum(json.loads(monthly["incremental"]["stdout"])["rows_through_gx"].values())
    anchor_db = work / f"anchor-{n}.duckdb"
    anchor_db.unlink(missing_ok=True)
    anchor = measure(
        [sys.executable, "-c", ANCHOR_LOAD.format(root=str(ROOT), db=str(anchor_db)), str(extract)]
    )
    kpis = measure(
        [
            str(BIN / "itb-audit"),
            "kpis",
            "--db",
            str(db),
            "--start",
            PERIOD[0],
            "--end",
            PERIOD[1],
            "--json",
        ]
    )
    return {
        "patients": n,
        "rows": rows,
        "load_s": load["seconds"],
        "load_peak_mb": load["peak_mb"],
        "timings": timings,
        "reload_s": reload["seconds"],
        "monthly_s": monthly["incremental"]["seconds"],
        "monthly_timings": json.loads(monthly["incremental"]["stdout"])["timings_seconds"],
        "monthly_full_s": monthly["full"]["seconds"],
        "monthly_through_gx": through_gx,
        "anchor_s": anchor["seconds"],
        "kpis_cli_s": kpis["seconds"],
        "kpis_bare_process_s": bare_kpi_process(db),
        "kpis_in_process_s": in_process_kpis(db),
        "kpis_bare_sql_s": bare_kpi_sql(db),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "itb-bench")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    env = {"ITB_AUDIT_PSEUDONYM_KEY": "benchmark-key-0123456789abcdef"}
    results = [run_size(n, args.work, env) for n in args.sizes]
    print(
        f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; "
        f"{time.strftime('%Y-%m-%d')}"
    )
    header = (
        "patients",
        "rows",
        "load s",
        "peak MB",
        "read",
        "validate",
        "of which GX",
        "write after",
        "GX share",
        "anchor s",
        "load/anchor",
        "reload s",
        "reload/load",
        "kpis CLI s",
        "bare SQL process s",
        "CLI/bare",
        "kpis in-proc s",
        "bare SQL s",
        "in-proc/bare",
    )
    print(" | ".join(header))
    for r in results:
        t = r["timings"]
        print(
            " | ".join(
                str(v)
                for v in (
                    r["patients"],
                    r["rows"],
                    f"{r['load_s']:.2f}",
                    f"{r['load_peak_mb']:.0f}",
                    f"{t['read']:.2f}",
                    f"{t['validate']:.2f}",
                    f"{t['great_expectations']:.2f}",
                    f"{t['write']:.2f}",
                    f"{t['great_expectations'] / r['load_s']:.0%}",
                    f"{r['anchor_s']:.2f}",
                    f"{r['load_s'] / r['anchor_s']:.1f}x",
                    f"{r['reload_s']:.2f}",
                    f"{r['reload_s'] / r['load_s']:.0%}",
                    f"{r['kpis_cli_s']:.2f}",
                    f"{r['kpis_bare_process_s']:.2f}",
                    f"{r['kpis_cli_s'] / r['kpis_bare_process_s']:.2f}x",
                    f"{r['kpis_in_process_s']:.3f}",
                    f"{r['kpis_bare_sql_s']:.3f}",
                    f"{r['kpis_in_process_s'] / r['kpis_bare_sql_s']:.2f}x",
                )
            )
        )
    print(
        "patients | monthly reload s | its GX s | rows through GX | reload/anchor | reload/load "
        "| same reload, full validation s"
    )
    for r in results:
        print(
            " | ".join(
                (
                    str(r["patients"]),
                    f"{r['monthly_s']:.2f}",
                    f"{r['monthly_timings']['great_expectations']:.2f}",
                    f"{r['monthly_through_gx']:,} of {r['rows']:,}",
                    f"{r['monthly_s'] / r['anchor_s']:.1f}x",
                    f"{r['monthly_s'] / r['load_s']:.0%}",
                    f"{r['monthly_full_s']:.2f}",
                )
            )
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        scale = last["rows"] / first["rows"]
        print(
            f"growth {first['patients']} -> {last['patients']} patients: rows x{scale:.1f}, "
            f"load x{last['load_s'] / first['load_s']:.1f}, "
            f"kpis x{last['kpis_in_process_s'] / first['kpis_in_process_s']:.1f}"
        )


if __name__ == "__main__":
    main()
