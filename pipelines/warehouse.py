"""The warehouse: schema, reads, and all-or-nothing writes to a DuckDB file.

A warehouse address (`--db`, ITB_AUDIT_DB) names a DuckDB file (the default) or a DuckLake on
PostgreSQL (`ducklake+postgresql://USER@HOST:PORT/DBNAME?data_path=PATH`, pipelines/lake.py).
Readers go through `reading`, the same SQL on either. Loads write files only so far.

A load never writes the live file. It copies it, writes the copy, checkpoints it and swaps it in
with os.replace, which is atomic: readers see the old snapshot or the new one, never half of
one, and a load is never blocked by a dashboard holding the file open read-only (DuckDB allows a
read-write open or read-only opens of a file, never both). A lock file serialises loads.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from pipelines import lake
from pipelines.config import QUERIES_DIR
from pipelines.contract import TABLES
from pipelines.lake import LakeAddress

SCHEMA_SQL = QUERIES_DIR / "schema" / "warehouse.sql"

# A warehouse address: a DuckDB file's path, or a lake address.
Db = str | os.PathLike[str]


def staging_ddl() -> str:
    """Raw-row tables, one per contract table: every column as text, with lineage."""
    statements = []
    for name, spec in TABLES.items():
        columns = ", ".join(f'"{c}" VARCHAR' for c in spec.column_names)
        statements.append(
            f"CREATE TABLE IF NOT EXISTS staging.{name} "
            "(load_id INTEGER NOT NULL, source_file VARCHAR NOT NULL, "
            f"source_row INTEGER NOT NULL, {columns});"
        )
    return "\n".join(statements)


@cache
def sql_text(name: str) -> str:
    """The SQL of queries/<name>.sql (e.g. "marts/waits", "load_write/record_load")."""
    return (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")


# The closing clause of a mart: the order its rows are listed in (no subquery, so no parenthesis).
LISTING_ORDER = re.compile(r"\norder by [^()]*\Z")


@cache
def unordered_sql_text(name: str) -> str:
    """queries/<name>.sql without its closing `order by` clause: the same rows, in no particular
    order. Figures (counts, sums, medians) need no order, and at 20,000 patients the sort is a
    quarter to a half of a mart's time."""
    sql = sql_text(name)
    unordered = LISTING_ORDER.sub("\n", sql)
    if unordered == sql:
        raise ValueError(f"query {name!r} does not end with an order by clause")
    return unordered


def run_sql(
    con: duckdb.DuckDBPyConnection, name: str, ordered: bool = True, **params: Any
) -> duckdb.DuckDBPyConnection:
    """Execute the one statement of queries/<name>.sql with its parameters bound by name
    ($site, ...), never formatted into the text. Only the parameters it names are bound; one it
    names but is not given is an error. `ordered=False` leaves out its closing order by
    (unordered_sql_text)."""
    sql = sql_text(name) if ordered else unordered_sql_text(name)
    (statement,) = con.extract_statements(sql)
    missing = statement.named_parameters - params.keys()
    if missing:
        raise TypeError(f"query {name!r} needs parameter(s): {', '.join(sorted(missing))}")
    return con.execute(sql, {key: params[key] for key in statement.named_parameters})


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_SQL.read_text())
    con.execute(staging_ddl())


def connect_readonly(db_path: str | os.PathLike) -> duckdb.DuckDBPyConnection:
    """A short read-only open: many may exist at once, and a load's swap never disturbs one."""
    return duckdb.connect(str(db_path), read_only=True)


def lake_address(db: Db) -> LakeAddress | None:
    """The lake `db` names, or None for a file. Raises lake.LakeError (one line, never a
    password) for a malformed lake address."""
    text = os.fspath(db)
    return LakeAddress.parse(text) if text.startswith(f"{lake.SCHEME}:") else None


def describe(db: Db) -> str:
    """The address for messages: a file's path, or a lake's catalog (never a password: an
    address holds none)."""
    address = lake_address(db)
    if address is None:
        return os.fspath(db)
    return f"the lake at {address.host}:{address.port}/{address.dbname}"


# One connection per lake per process: opening a lake costs 1-2 s (its catalog is read from
# PostgreSQL), a cursor of it almost nothing. Each cursor reads the latest committed snapshot.
_lakes: dict[LakeAddress, duckdb.DuckDBPyConnection] = {}
_lakes_lock = threading.Lock()


def _lake_cursor(address: LakeAddress) -> duckdb.DuckDBPyConnection:
    with _lakes_lock:
        if address not in _lakes:
            _lakes[address] = lake.open_lake(address)
        return _lakes[address].cursor()


@contextmanager
def reading(db: Db) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to read the warehouse, closed after the block: for a file a short read-only
    open (a load's swap never disturbs it), for a lake a new cursor of the process's one
    connection to it. Never share it between threads; run_query takes a cursor of it per query."""
    address = lake_address(db)
    con = connect_readonly(db) if address is None else _lake_cursor(address)
    try:
        yield con
    finally:
        con.close()


def snapshot_stamp(db: Db) -> tuple[int, ...] | None:
    """The identity of the warehouse's current state, to key cached results on: a file's inode
    and mtime (a load swaps in a new file), a lake's snapshot id (a load commits a new one).
    None when there is no warehouse yet: no file, or a lake without the load history."""
    if lake_address(db) is None:
        try:
            stat = Path(db).stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns
    with reading(db) as con:
        row = con.execute(
            "select id from ducklake_current_snapshot(current_database()) where exists "
            "(from duckdb_tables() where database_name = current_database() "
            "and schema_name = 'audit' and table_name = 'loads')"
        ).fetchone()
    return None if row is None else (row[0],)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def swap_write(db_path: str | os.PathLike) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a read-write connection to a copy of the warehouse; on success the copy replaces
    the warehouse atomically, on any exception the warehouse is left exactly as it was."""
    db = Path(db_path).resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(db.with_name(db.name + ".lock")):
        # Copies left by a load that was killed: nobody else can be writing them (we hold the lock).
        for stale in db.parent.glob(f".{db.name}.loading-*"):
            stale.unlink()
        work = db.with_name(f".{db.name}.loading-{os.getpid()}")
        if db.exists():
            shutil.copyfile(db, work)
        try:
            con = duckdb.connect(str(work))
            try:
                ensure_schema(con)
                yield con
                con.execute("CHECKPOINT")
            finally:
                con.close()
            _fsync(work)
            os.replace(work, db)
            _fsync(db.parent)
        finally:
            for leftover in (work, work.with_name(work.name + ".wal")):
                leftover.unlink(missing_ok=True)
