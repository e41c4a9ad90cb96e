"""The dashboard's only way to the warehouse: named queries from queries/, cached per snapshot.

Each call opens the file read-only for that query alone, so a load (which swaps in a new file)
is never blocked and the dashboard never holds a half-written state. Results are cached by
query, parameters and the file's identity (inode and mtime), so a new load shows at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from pipelines.queries import run_query
from pipelines.warehouse import connect_readonly

DEFAULT_DB = Path(__file__).resolve().parent.parent / "warehouse" / "demo.duckdb"


def db_path() -> Path:
    return Path(os.environ.get("ITB_AUDIT_DB", DEFAULT_DB))


def snapshot_stamp() -> tuple[int, int] | None:
    """Identity of the current warehouse file; None when there is none yet."""
    try:
        stat = db_path().stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(name: str, stamp: tuple[int, int], params: tuple) -> pd.DataFrame:
    con = connect_readonly(db_path())
    try:
        return run_query(con, name, **dict(params)).to_pandas()
    finally:
        con.close()


def query(name: str, **params) -> pd.DataFrame:
    stamp = snapshot_stamp()
    if stamp is None:
        raise FileNotFoundError(db_path())
    return _cached(name, stamp, tuple(sorted(params.items())))


def has_data() -> bool:
    return snapshot_stamp() is not None and not query("audit/loads", site=None).empty
