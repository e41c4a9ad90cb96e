"""Run the SQL in queries/ with bound parameters.

Every figure is defined once, as SQL in queries/marts/; this module only runs a named query on
an open connection (pipelines.warehouse.connect_readonly opens one). Values are always bound by
name ($start, $site, ...), never formatted into the SQL text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.warehouse import run_sql, sql_text

MACROS = "macros/shared"


def run_query(
    con: duckdb.DuckDBPyConnection,
    name: str,
    ordered: bool = True,
    columns: Sequence[str] | None = None,
    **params: Any,
) -> pa.Table:
    """Run queries/<name>.sql on its own cursor and return the rows (with `ordered=False`, in no
    particular order: pipelines.warehouse.unordered_sql_text; with `columns`, only those of its
    columns: pipelines.warehouse.run_sql).

    A cursor per call, because the dashboard calls this from many threads and a DuckDB
    connection is not safe to share between them. The shared macros (queries/macros/shared.sql)
    are temporary objects of that cursor only. Only the parameters the query names are bound;
    a parameter it names but is not given is an error.

    The macros and the query are one transaction: on a lake each statement outside one is a
    transaction of its own that reads the catalog's snapshot from PostgreSQL (a dozen reads
    per query instead of one).
    """
    with con.cursor() as cur:
        cur.begin()
        rows = run_on(cur, name, ordered, columns, **params)
        cur.commit()
        return rows


def run_on(
    con: duckdb.DuckDBPyConnection,
    name: str,
    ordered: bool = True,
    columns: Sequence[str] | None = None,
    **params: Any,
) -> pa.Table:
    """Run queries/<name>.sql on this very connection (run_query's work without a cursor of its
    own): for a load, whose rows are visible only inside its transaction."""
    con.execute(sql_text(MACROS))
    return run_sql(con, name, ordered, columns, **params).to_arrow_table()
