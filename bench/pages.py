"""Page render times: first render (empty caches) and cached re-render of every dashboard page.

    .venv/bin/python bench/pages.py WAREHOUSE [--repeat 3] [--years 10] [--pages overview]

WAREHOUSE is a DuckDB file or a lake address (its catalog's password in PGPASSWORD; a lake is
opened once by the process, as a dashboard replica holds it, before the pages are timed).

Signs in as a clinician (who sees every figure page) through the sign-in form, under
Streamlit's AppTest, and prints a table of seconds per page and the ratio to the targets of
issue #7 (first render ≤ 2 s, re-render ≤ 0.3 s), and the CPU seconds of the first render (the
process's, every thread's): on a busy machine the wall clock stretches, the CPU time much less.
`--years N` picks a custom period of the N years to the latest as-of date (issue #16's 10-year
Overview) instead of the default last 12 months. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = (
    "overview",
    "waits",
    "trials",
    "complications",
    "refills",
    "batteries",
    "outcomes",
    "data_quality",
)
FIRST_TARGET, AGAIN_TARGET = 2.0, 0.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", help="a DuckDB file or a lake address")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--years", type=int, help="a custom period of this many years")
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=PAGES)
    args = parser.parse_args()
    from pipelines.warehouse import describe, lake_address

    on_file = lake_address(args.db) is None
    db = str(Path(args.db).resolve()) if on_file else args.db
    os.environ["ITB_AUDIT_DB"] = db
    os.environ["ITB_AUDIT_USERS"] = str(Path(tempfile.mkdtemp()) / "users.json")
    os.environ.setdefault("ITB_AUDIT_ACCESS_LOG", str(Path(tempfile.mkdtemp()) / "access.jsonl"))

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard import filters
    from pipelines.access import users
    from pipelines.access.roles import Role
    from pipelines.config import load_settings

    name, password = users.create_demo_users(users.store(load_settings()))[Role.CLINICIAN]
    app = str(ROOT / "dashboard" / "app.py")

    def signed_in() -> AppTest:
        at = AppTest.from_file(app, default_timeout=120).run()
        at.text_input(key="sign_in_user").input(name)
        at.text_input(key="sign_in_password").input(password)
        at = at.button[0].click().run()
        if args.years:  # the custom period of that many years, as a user picks it
            as_of = at.session_state["filters"].end
            start = filters.add_months(as_of, -12 * args.years) + dt.timedelta(days=1)
            at.radio(key="period_pick").set_value(filters.CUSTOM).run()
            at.date_input(key="custom_period").set_value((start, as_of)).run()
        return at

    period = f"{args.years}-year custom period" if args.years else "last 12 months"
    print(
        f"warehouse: {describe(db)}"
        + (f" ({Path(db).stat().st_size / 1e6:.0f} MB)" if on_file else "")
        + f"; {period}; "
        f"median of {args.repeat} runs"
    )
    print(
        "page | first render s | re-render s | first/target | re-render/target | first render CPU s"
    )
    for page in args.pages:
        first, again, cpu = [], [], []
        for _ in range(args.repeat):
            at = signed_in()
            st.cache_data.clear()
            started, cpu_started = time.perf_counter(), time.process_time()
            at.switch_page(f"views/{page}.py").run()
            first.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            started = time.perf_counter()
            at.run()
            again.append(time.perf_counter() - started)
            if at.exception:
                raise SystemExit(f"{page}: {at.exception[0].value}")
        f, a, c = statistics.median(first), statistics.median(again), statistics.median(cpu)
        ratios = f"{f / FIRST_TARGET:.2f} | {a / AGAIN_TARGET:.2f}"
        print(f"{page} | {f:.2f} | {a:.2f} | {ratios} | {c:.2f}")


if __name__ == "__main__":
    main()
