"""Run the SQL in queries/ with bound parameters.

Every figure is defined once, as SQL in queries/marts/; this module only runs a named query on
an open connection (pipelines.warehouse.connect_readonly opens one). Values are always bound by
name ($start, $site, ...), never formatted into the SQL text.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.config import QUERIES_DIR

MACROS = "macros/shared"


@cache
def query_text(name: str) -> str:
    """The SQL of queries/<name>.sql (e.g. "marts/waits")."""
    return (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")


def run_query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pa.Table:
    """Run queries/<name>.sql on its own cursor and return the rows.

    A cursor per call, because the dashboard calls this from many threads and a DuckDB
    connection is not safe to share between them. The shared macros (queries/macros/shared.sql)
    are temporary objects of that cursor only. Only the parameters the query names are bound;
    a parameter it names but is not given is an error.
    """
    sql = query_text(name)
    with con.cursor() as cur:
        (statement,) = cur.extract_statements(sql)
        missing = statement.named_parameters - params.keys()
        if missing:
            raise TypeError(f"query {name!r} needs parameter(s): {', '.join(sorted(missing))}")
        cur.execute(query_text(MACROS))
        bound = {key: params[key] for key in statement.named_parameters}
        return cur.execute(sql, bound).to_arrow_table()
