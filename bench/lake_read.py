"""The lake's read side (issue #14): the same warehouse read from a file and from a DuckLake.

    .venv/bin/python bench/lake_read.py WAREHOUSE.duckdb [--sessions 50] [--seconds 60]
        [--load EXTRACT]

It starts a throwaway PostgreSQL (tests/fixtures/postgres_server.py, the lake tests' own), copies
the warehouse file's tables into a lake on it (copy_into_lake, as the lake tests fill theirs) or,
with --load, loads EXTRACT into the lake with `itb-audit load` (the lake a site's load makes:
core.* views of history.*; load the same extract into WAREHOUSE.duckdb with the same key), and
measures, each in fresh processes, the catalog's password only in PGPASSWORD:
  kpis      `itb-audit kpis --json` for the 12 months to 2026-11-01 on the file and on the lake,
            alternately, `--repeat` times each: median wall and CPU seconds, the ratio (target
            <= 1.5x), and whether the two JSONs are byte-identical;
  pages     bench/pages.py on the lake and on the file: each page's first render, with empty
            caches, in a process that already holds its lake connection (target <= 2 s);
  sessions  `--sessions` simulated dashboard sessions for `--seconds`, split over two processes
            (the two replicas), each session a thread that loops: the snapshot stamp a page run
            reads first (the dashboard's: dashboard.data.snapshot_stamp, which asks the lake at
            most once a second), then one mart's rows (every mart in turn) through
            warehouse.reading, a cursor of the process's one lake connection per query: failed
            queries, and the p50/p95/max seconds per query; then the same on the file.
CPU seconds are every process's (user + system); the load average is printed with each part,
for the machine is shared. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

START, END = "2025-11-02", "2026-11-01"  # the 12 months to the extract's as-of date
KPIS_TARGET, FIRST_TARGET = 1.5, 2.0


def load_average() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str]) -> tuple[float, float, str]:
    """Run a command to its end: its wall seconds, CPU seconds and standard output."""
    cpu, started = children_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed: {done.stderr[-2000:]}")
    return wall, children_cpu() - cpu, done.stdout


def kpis(file: str, lake: str, repeat: int) -> None:
    print(f"\n## kpis --json, 12 months, median of {repeat} ({load_average()})\n")
    runs: dict[str, list[tuple[float, float, str]]] = {"file": [], "lake": []}
    for _ in range(repeat):
        for name, db in (("file", file), ("lake", lake)):
            command = [sys.executable, "-m", "pipelines.cli", "kpis", "--db", db]
            runs[name].append(timed([*command, "--start", START, "--end", END, "--json"]))
    print("backend | wall s | CPU s")
    print("---|---|---")
    medians = {}
    for name, measured in runs.items():
        wall = statistics.median(m[0] for m in measured)
        cpu = statistics.median(m[1] for m in measured)
        medians[name] = (wall, cpu)
        print(f"{name} | {wall:.2f} | {cpu:.2f}")
    (file_wall, file_cpu), (lake_wall, lake_cpu) = medians["file"], medians["lake"]
    same = {m[2] for m in runs["file"] + runs["lake"]}
    print(
        f"\nlake/file: wall {lake_wall / file_wall:.2f}x, CPU {lake_cpu / file_cpu:.2f}x "
        f"(target <= {KPIS_TARGET}x); the JSONs are "
        f"{'byte-identical' if len(same) == 1 else 'DIFFERENT'} ({load_average()})"
    )


def pages(file: str, lake: str, repeat: int) -> None:
    for name, db in (("lake", lake), ("file", file)):
        print(f"\n## Pages on the {name}, first render <= {FIRST_TARGET} s ({load_average()})\n")
        command = [sys.executable, str(ROOT / "bench" / "pages.py"), db, "--repeat", str(repeat)]
        wall, cpu, out = timed(command)
        print(out.strip())
        print(f"\n(the whole run: {wall:.0f} s wall, {cpu:.0f} s CPU; {load_average()})")


def sessions(db: str, name: str, count: int, seconds: float) -> None:
    print(
        f"\n## {count} sessions on the {name} for {seconds:g} s over two processes "
        f"({load_average()})\n"
    )
    begin = time.time() + 15  # after both processes have opened the lake
    per_process = [count // 2, count - count // 2]
    cpu = children_cpu()
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", db]
            + ["--sessions", str(n), "--seconds", str(seconds), "--begin", str(begin)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for n in per_process
    ]
    results = [json.loads(w.communicate()[0]) for w in workers]
    cpu = children_cpu() - cpu
    times = sorted(t for r in results for t in r["seconds"])
    failures = [e for r in results for e in r["failures"]]
    quantiles = statistics.quantiles(times, n=100)
    print("queries | failed | per second | p50 s | p95 s | max s | CPU s (both processes)")
    print("---|---|---|---|---|---|---")
    print(
        f"{len(times)} | {len(failures)} | {len(times) / seconds:.1f} | {quantiles[49]:.2f} | "
        f"{quantiles[94]:.2f} | {times[-1]:.2f} | {cpu:.0f}"
    )
    by_kind: dict[str, list[float]] = {}
    for r in results:
        for kind, t in zip(r["kinds"], r["seconds"], strict=True):
            by_kind.setdefault(kind, []).append(t)
    print("\nquery | runs | p50 s | p95 s")
    print("---|---|---|---")
    for kind, measured in sorted(by_kind.items()):
        q = statistics.quantiles(measured, n=100) if len(measured) > 1 else measured * 99
        print(f"{kind} | {len(measured)} | {q[49]:.2f} | {q[94]:.2f}")
    for failure in failures[:5]:
        print(f"failed: {failure}")
    print(f"\n({load_average()})")


def worker(db: str, count: int, seconds: float, begin: float) -> None:
    """One replica's sessions: threads querying the warehouse until the time is up; prints
    JSON."""
    os.environ["ITB_AUDIT_DB"] = db
    from dashboard import data
    from pipelines import warehouse
    from pipelines.config import load_settings
    from pipelines.figures.kpis import Scope

    settings = load_settings()
    scope = Scope(dt.date.fromisoformat(START), dt.date.fromisoformat(END), None, settings)
    marts = sorted(p.stem for p in (ROOT / "queries" / "marts").glob("*.sql"))
    warehouse.snapshot_stamp(db)  # the process's one lake connection, opened before the clock
    kinds: list[str] = []
    took: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    time.sleep(max(0.0, begin - time.time()))
    stop = time.monotonic() + seconds

    def session(number: int) -> None:
        order = marts[:]
        random.Random(number).shuffle(order)
        step = 0
        while time.monotonic() < stop:
            mart = order[step % len(order)]
            step += 1
            for kind in ("snapshot_stamp", mart):
                started = time.perf_counter()
                try:
                    if kind == "snapshot_stamp":
                        data.snapshot_stamp()
                    else:
                        with warehouse.reading(db) as con:
                            scope.run(con, mart)
                except Exception as error:  # a failed query is what is counted
                    with lock:
                        failures.append(f"{kind}: {str(error).splitlines()[0][:200]}")
                    continue
                with lock:
                    kinds.append(kind)
                    took.append(time.perf_counter() - started)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"kinds": kinds, "seconds": took, "failures": failures}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", help="a warehouse file (or, with --worker, a lake address)")
    parser.add_argument("--repeat", type=int, default=3, help="kpis runs per backend")
    parser.add_argument("--page-repeat", type=int, default=1, help="renders of each page")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=["kpis", "pages", "sessions", "file-sessions"],
        default=["kpis", "pages", "sessions", "file-sessions"],
        help="file-sessions: the same sessions on the file, to compare on the same machine",
    )
    parser.add_argument("--load", type=Path, help="fill the lake by loading this extract")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--begin", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.db, args.sessions, args.seconds, args.begin)
        return

    from tests.fixtures.postgres_server import copy_into_lake, postgres_bin, running_postgres

    file = str(Path(args.db).resolve())
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (make postgres-deps installs it)")
    print(f"# The lake read side: {file} ({Path(file).stat().st_size / 1e6:.0f} MB)")
    print(f"{os.cpu_count()} CPUs; {load_average()}; {dt.datetime.now():%Y-%m-%d %H:%M}")
    with running_postgres(bin_dir) as server, tempfile.TemporaryDirectory() as data:
        os.environ["PGPASSWORD"] = server.password  # the environment, never a command line
        lake = server.address(Path(data))
        started = time.perf_counter()
        if args.load:
            command = [sys.executable, "-m", "pipelines.cli", "load", str(args.load)]
            timed([*command, "--db", lake, "--site", "main", "--as-of", END])
        else:
            copy_into_lake(Path(file), lake)
        parquet = sum(p.stat().st_size for p in Path(data).rglob("*") if p.is_file())
        print(
            f"{'loaded' if args.load else 'copied'} into the lake in "
            f"{time.perf_counter() - started:.1f} s ({parquet / 1e6:.0f} MB of Parquet)"
        )
        if "kpis" in args.parts:
            kpis(file, lake, args.repeat)
        if "pages" in args.parts:
            pages(file, lake, args.page_repeat)
        if "sessions" in args.parts:
            sessions(lake, "lake", args.sessions, args.seconds)
        if "file-sessions" in args.parts:
            sessions(file, "file", args.sessions, args.seconds)


if __name__ == "__main__":
    main()
