"""The warehouse: schema, reads, and all-or-nothing writes, to a DuckDB file or a DuckLake.

A warehouse address (`--db`, ITB_AUDIT_DB) names a DuckDB file (the default) or a DuckLake on
PostgreSQL (`ducklake+postgresql://USER@HOST:PORT/DBNAME?data_path=PATH`, pipelines/lake.py).
Readers go through `reading`, writers through `writing`: the same SQL on either.

A write to a file never writes the live file. It copies it, writes the copy, checkpoints it and
swaps it in with os.replace, which is atomic: readers see the old snapshot or the new one, never
half of one, and a load is never blocked by a dashboard holding the file open read-only (DuckDB
allows a read-write open or read-only opens of a file, never both). A lock file serialises them.
A write to a lake is one DuckLake transaction, under an advisory lock in its PostgreSQL catalog
held from BEGIN to COMMIT; its commit is one snapshot, named by what it wrote (docs/loading.md).
A load validates before it opens a lake's write (reading_ahead_of_write), so that loads of
several sites validate at once and only their writes queue.

Rows are kept as versions (history.* for accepted rows, staging.* for raw rows): a load adds the
rows that are new or changed and closes those it no longer holds (write_versions), so the
warehouse grows with what changed, not with the number of loads. core.* are views of the current
versions; connect_as_loaded gives a connection whose core.* and audit.* stand as they did after
chosen loads, so every mart reads a past state through its one definition.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from pipelines import lake
from pipelines.config import QUERIES_DIR
from pipelines.contract import TABLE_ORDER, TABLES
from pipelines.lake import LakeAddress, LakeError

SCHEMA_SQL = QUERIES_DIR / "schema" / "warehouse.sql"
VALIDITY = ("valid_from_load", "valid_to_load")
LOAD_ID = re.compile(r"^[0-9]{1,9}$")


class AsLoadedError(ValueError):
    """An --as-loaded that names no load the warehouse can be read at (one line to show)."""


# A warehouse address: a DuckDB file's path, or a lake address.
Db = str | os.PathLike[str]
T = TypeVar("T")


def staging_ddl() -> str:
    """Raw-row tables, one per contract table: every column as text, with lineage, kept as
    versions (VALIDITY) like history.*."""
    statements = []
    for name, spec in TABLES.items():
        columns = ", ".join(f'"{c}" VARCHAR' for c in spec.column_names)
        statements.append(
            f"CREATE TABLE IF NOT EXISTS staging.{name} "
            "(site VARCHAR NOT NULL, source_file VARCHAR NOT NULL, "
            f"source_row INTEGER NOT NULL, {columns}, "
            "valid_from_load INTEGER NOT NULL, valid_to_load INTEGER);"
        )
    return "\n".join(statements)


def _valid_at(alias: str, pins: str) -> str:
    """The one rule of which version a load sees: a version is valid at its site's pinned load
    when that load made it (or came later) and no load up to the pinned one replaced it."""
    return (
        f"{alias}.site = {pins}.site and {alias}.valid_from_load <= {pins}.load_id "
        f"and ({alias}.valid_to_load is null or {alias}.valid_to_load > {pins}.load_id)"
    )


def content_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of a versioned table (history.x, staging.x) that make up a row's content."""
    return [c for c in con.table(table).columns if c not in VALIDITY]


def write_versions(
    con: duckdb.DuckDBPyConnection, table: str, site: str, load_id: int, rows: str | None
) -> None:
    """Make the relation `rows` (the content columns of `table`; None = no rows) the site's
    current versions in `table` (history.x or staging.x), adding only what changed.

    A row is the same row when every column but source_row is equal (NULLs equal: a blank cell
    is not a change), rows with equal content paired in row order (a raw row read twice is two
    rows). A current version with no such row is closed at this load; a row with no such
    version is added, valid from this load; a version whose row only moved (a row above it was
    added or deleted) keeps its version and takes the row's new number, so lineage points into
    the latest extract and a deletion near the top of a file does not make every row below it
    a new version."""
    params = {"site": site, "load": load_id}
    if rows is None:
        con.execute(
            f"update {table} set valid_to_load = $load "
            "where site = $site and valid_to_load is null",
            params,
        )
        return
    compared = [c for c in content_columns(con, table) if c != "source_row"]
    content = ", ".join(f'"{c}"' for c in compared)
    held = con.execute(
        f"select count(*) from {table} where site = $site and valid_to_load is null",
        {"site": site},
    ).fetchone()
    if not (held and held[0]):  # the site holds none: every row is new
        statement = (
            f"insert into {table} ({content}, source_row, valid_from_load) "
            f"select {content}, source_row, $load from {rows} order by source_row"
        )
        con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})
        return
    same = " and ".join(f'r."{c}" is not distinct from t."{c}"' for c in compared)
    digest = f"hash({content}) as digest"
    for statement in (
        # Rows are paired by a 64-bit digest of their content, then checked column by column: a
        # join on every column (and numbering every row by its whole content) cost twice as much.
        f"create temp table incoming_rows as select {digest}, source_row from {rows}",
        f"create temp table current_versions as select rowid as version, {digest}, source_row "
        f"from {table} where site = $site and valid_to_load is null",
        # A digest held by more than one row on either side: those rows pair in row order.
        "create temp table repeated as select digest from incoming_rows group by digest "
        "having count(*) > 1 union select digest from current_versions group by digest "
        "having count(*) > 1",
        "create temp table matched as with "
        "numbered_rows as (select *, row_number() over (partition by digest order by source_row) "
        "as occurrence from incoming_rows semi join repeated using (digest)), "
        "numbered_versions as (select *, row_number() over (partition by digest "
        "order by source_row) as occurrence from current_versions semi join repeated "
        "using (digest)), "
        "pairs as (select v.version, v.source_row as was, r.source_row "
        "from current_versions as v inner join incoming_rows as r using (digest) "
        "anti join repeated using (digest) "
        "union all select v.version, v.source_row as was, r.source_row "
        "from numbered_versions as v inner join numbered_rows as r using (digest, occurrence)) "
        # equal digests of unequal rows (a collision) are no match: a new version, never a loss
        f"select p.* from pairs as p inner join {table} as t on t.rowid = p.version "
        f"inner join {rows} as r on r.source_row = p.source_row where {same}",
        f"update {table} set valid_to_load = $load where rowid in "
        "(select version from current_versions anti join matched using (version))",
        f"update {table} as t set source_row = m.source_row from matched as m "
        "where t.rowid = m.version and m.source_row <> m.was",
        f"insert into {table} ({content}, source_row, valid_from_load) "
        f"select {content}, source_row, $load "
        # in file order, as read: rows stored in that order compress as well as before
        f"from {rows} anti join matched using (source_row) order by source_row",
        "drop table incoming_rows",
        "drop table current_versions",
        "drop table repeated",
        "drop table matched",
    ):
        con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})


def _pinned_views(source: str, pins: str) -> str:
    """core.* and staging.* as views of the versions valid at each site's load in `pins` (a
    relation of site, load_id), read from the catalog `source`."""
    statements = []
    for layer, versions in (("core", "history"), ("staging", "staging")):
        for name in TABLE_ORDER:
            statements.append(
                f"create or replace view {layer}.{name} as "
                f"select v.* exclude (valid_from_load, valid_to_load) "
                f"from {source}.{versions}.{name} as v, {pins} as p where {_valid_at('v', 'p')};"
            )
    return "\n".join(statements)


def _current_views() -> str:
    """core.*: the current version of every accepted row (what the marts read). Made once: a
    view replaced on a lake is a change to its schema, so every load would make one."""
    return "\n".join(
        f"create view if not exists core.{name} as "
        "select * exclude (valid_from_load, valid_to_load) "
        f"from history.{name} where valid_to_load is null;"
        for name in TABLE_ORDER
    )


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
    con: duckdb.DuckDBPyConnection,
    name: str,
    ordered: bool = True,
    columns: Sequence[str] | None = None,
    **params: Any,
) -> duckdb.DuckDBPyConnection:
    """Execute the one statement of queries/<name>.sql with its parameters bound by name
    ($site, ...), never formatted into the text. Only the parameters it names are bound; one it
    names but is not given is an error. `ordered=False` leaves out its closing order by
    (unordered_sql_text). `columns`: only these of its columns (the same rows), in no particular
    order; DuckDB then computes and fetches no other column."""
    sql = sql_text(name) if ordered else unordered_sql_text(name)
    if columns is not None:
        if ordered:
            raise ValueError("a choice of columns is read in no particular order: ordered=False")
        picked = ", ".join(f'"{column}"' for column in columns)
        sql = f"select {picked} from (\n{sql}\n)"
    (statement,) = con.extract_statements(sql)
    missing = statement.named_parameters - params.keys()
    if missing:
        raise TypeError(f"query {name!r} needs parameter(s): {', '.join(sorted(missing))}")
    return con.execute(sql, {key: params[key] for key in statement.named_parameters})


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's own database is a lake (not a DuckDB file)."""
    row = con.execute(
        "select type from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return row is not None and row[0] == "ducklake"


# A primary key of the schema: a column's, or a table's over several columns.
PRIMARY_KEY = re.compile(r" primary key(?=,)|,\s*primary key \([^)]*\)")


def schema_sql(lake: bool) -> str:
    """queries/schema/warehouse.sql; for a lake without its primary keys, which DuckLake does not
    have. Their ids stay unique all the same: each is one more than the highest, taken under the
    lake's write lock."""
    sql = SCHEMA_SQL.read_text()
    return PRIMARY_KEY.sub("", sql) if lake else sql


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing; a warehouse made before history was kept is migrated first."""
    _drop_old_verdicts(con)
    con.execute(schema_sql(is_lake(con)))
    _migrate(con)
    con.execute(staging_ddl())
    _migrate_staging(con)
    con.execute(_current_views())


def _drop_old_verdicts(con: duckdb.DuckDBPyConnection) -> None:
    """Row verdicts in their first form (two hashes, the rules and as-of date on every row) are
    dropped: they only spare work, and the next load judges every row again."""
    old = con.execute(
        "select 1 from information_schema.columns where table_schema = 'audit' "
        "and table_name = 'row_verdicts' and column_name = 'hash_1'"
    ).fetchone()
    if old:
        con.execute("drop table audit.row_verdicts")


def _base_tables(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    return {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "and table_type = 'BASE TABLE' and table_catalog = current_database()",
            [schema],
        ).fetchall()
    }


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """core.* as tables (before history was kept) become history.*: each row valid from its
    site's current load, the first load that can be read as loaded (audit.history_since)."""
    legacy = _base_tables(con, "core")
    if not legacy:
        return
    for name in TABLE_ORDER:
        if name in legacy:
            names = ", ".join(f'c."{c}"' for c in content_columns(con, f"core.{name}"))
            con.execute(
                f"insert into history.{name} select {names}, s.load_id, null "
                f"from core.{name} as c inner join audit.site_snapshots as s on c.site = s.site"
            )
            con.execute(f"drop table core.{name}")
    con.execute(
        "insert or replace into audit.history_since select site, load_id from audit.site_snapshots"
    )


def _migrate_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Raw rows stored per extract (a load_id column, before history was kept) become versions:
    each load's raw rows are written in load order, as the loads would have written them."""
    legacy = [n for n in TABLE_ORDER if "load_id" in con.table(f"staging.{n}").columns]
    if not legacy:
        return
    for name in legacy:
        con.execute(f"alter table staging.{name} rename to {name}_per_extract")
    con.execute(staging_ddl())
    loads = con.execute("select load_id, site, raw_load_id from audit.loads order by load_id")
    for load_id, site, raw_load_id in loads.fetchall():
        for name in legacy:
            columns = ", ".join(f'"{c}"' for c in TABLES[name].column_names)
            rows = (
                f"(select $site as site, source_file, source_row, {columns} "
                f"from staging.{name}_per_extract where load_id = {int(raw_load_id)})"
            )
            write_versions(con, f"staging.{name}", site, load_id, rows)
    for name in legacy:
        con.execute(f"drop table staging.{name}_per_extract")


def connect_readonly(db_path: str | os.PathLike) -> duckdb.DuckDBPyConnection:
    """A short read-only open: many may exist at once, and a load's swap never disturbs one."""
    return duckdb.connect(str(db_path), read_only=True)


def lake_address(db: Db) -> LakeAddress | None:
    """The lake `db` names, or None for a file. Raises LakeError (one line, never a
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


def _lake_cursor(address: LakeAddress, create: bool = False) -> duckdb.DuckDBPyConnection:
    """A cursor of the process's connection to the lake; `create`: a lake not made yet is made
    (its catalog in the database the address names, its data path recorded in it)."""
    with _lakes_lock:
        if address not in _lakes:
            try:
                _lakes[address] = lake.open_lake(address)
            except LakeError:
                if not create:
                    raise
                made = lake.connect()
                try:  # under the write lock: writers making the lake at once would collide
                    with lake.write_lock(made, address):
                        lake.attach_lake(made, address)
                finally:
                    made.close()
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
        # One transaction, one read of the catalog's snapshot. Binding audit.loads asks the
        # catalog for that table alone; duckdb_tables() would ask for every table's statistics
        # (two catalog statements per table, 16 ms of CPU against 3).
        con.begin()
        row = con.execute("select id from ducklake_current_snapshot(current_database())").fetchone()
        try:
            con.execute("from audit.loads limit 0")
        except duckdb.CatalogException:
            return None
    assert row is not None  # a lake always has a current snapshot
    return (row[0],)


# A lake read retried this many times is given up: the lake changed under every attempt.
READ_ATTEMPTS = 5


def read_one_state(db: Db, read: Callable[[], T]) -> T:
    """read() (which reads the warehouse `db` names, e.g. through `reading`), made to see one
    state of it. A file's read does by itself: every cursor of one open reads that file. A
    lake's cursors each read the latest snapshot as each query starts, and the marts run on
    cursors of their own, at once, so a write committed while read() runs could give figures
    of two states: read() is run again until no snapshot was committed while it ran."""
    if lake_address(db) is None:
        return read()
    for _ in range(READ_ATTEMPTS):
        before = snapshot_stamp(db)
        result = read()
        if snapshot_stamp(db) == before:
            return result
    raise LakeError(
        f"{describe(db)} changed under each of {READ_ATTEMPTS} reads in a row: try again"
    )


def resolve_loads(con: duckdb.DuckDBPyConnection, as_loaded: str | None) -> dict[str, int]:
    """site -> the load whose data a figure is computed from. None: each site's current load.
    A load id: that load for its site, and each other site's latest load with a smaller id (the
    warehouse as it stood right after that load). A date (YYYY-MM-DD): each site's last load
    that finished on or before that day (local time, as audit.loads.finished_at). Raises
    AsLoadedError for anything else, an unknown load, a day before any load finished, or a load
    from before the warehouse kept history."""
    if as_loaded is None:
        rows = con.execute("select site, load_id from audit.site_snapshots order by site")
        return dict(rows.fetchall())
    text = as_loaded.strip()
    if not _base_tables(con, "history"):
        raise AsLoadedError(
            f"--as-loaded {text}: this warehouse was made before load history was kept "
            "(its next load adds it); only its current figures can be read"
        )
    if LOAD_ID.match(text):
        found = con.execute("select site from audit.loads where load_id = ?", [int(text)])
        if found.fetchone() is None:
            raise AsLoadedError(f"--as-loaded {text}: no load {text} in this warehouse")
        last = "load_id <= ?"
        bound: int | dt.date = int(text)
    else:
        try:
            bound = dt.date.fromisoformat(text)
        except ValueError:
            raise AsLoadedError(
                f"--as-loaded {as_loaded!r}: give a load id or a date YYYY-MM-DD"
            ) from None
        last = "finished_at < ?::date + 1"
    pins = dict(
        con.execute(
            f"select site, max(load_id) from audit.loads where {last} group by site order by site",
            [bound],
        ).fetchall()
    )
    if not pins:
        first = con.execute("select min(finished_at)::date from audit.loads").fetchone()
        since = f"the first finished on {first[0]}" if first and first[0] else "none yet"
        raise AsLoadedError(f"--as-loaded {text}: no load had finished by then ({since})")
    for site, load_id in pins.items():
        kept = con.execute(
            "select load_id from audit.history_since where site = ? and load_id > ?",
            [site, load_id],
        ).fetchone()
        if kept:
            raise AsLoadedError(
                f"--as-loaded {text}: site {site}'s load {load_id} was made before this "
                f"warehouse kept history (it holds site {site} as loaded from load {kept[0]})"
            )
    return pins


def connect_as_loaded(db: Db, loads: dict[str, int]) -> duckdb.DuckDBPyConnection:
    """A connection on which core.*, staging.* and audit.* stand as they did after `loads`
    (site -> load id, from resolve_loads): the warehouse (file or lake) is attached read-only
    and the names the marts and load_history queries read are views pinned to those loads, so
    they run unchanged. audit.site_snapshots holds the pinned loads; audit.loads (and its
    per-load records) only the loads each pinned site had made by then; a site not pinned has
    no rows. The past comes from history.*, never from a lake's own snapshots, so it stands
    whatever `maintain` expires."""
    address = lake_address(db)
    if address is None:
        con = duckdb.connect()
        con.execute(f"attach {_literal(db)} as warehouse (read_only)")
    else:  # opening the lake again costs a second or so: fine for a command, not for a page
        con = lake.connect()
        lake.attach_lake(con, address, "warehouse", read_only=True)
    con.execute(
        "create schema core; create schema staging; create schema audit; "
        "create table audit.pins (site varchar primary key, load_id integer not null)"
    )
    con.executemany("insert into audit.pins values (?, ?)", list(loads.items()))
    con.execute(_pinned_views("warehouse", "audit.pins"))
    con.execute(
        "create view audit.site_snapshots as select l.site, l.load_id, l.as_of "
        "from warehouse.audit.loads as l inner join audit.pins as p using (site, load_id);"
        "create view audit.loads as select l.* from warehouse.audit.loads as l "
        "inner join audit.pins as p on l.site = p.site and l.load_id <= p.load_id;"
        + "".join(
            f"create view audit.{name} as select * from warehouse.audit.{name} "
            "where load_id in (select load_id from audit.loads);"
            for name in ("load_tables", "quarantine", "expectation_results")
        )
    )
    return con


def _literal(path: str | os.PathLike) -> str:
    """A file path as a SQL string literal (ATTACH takes no parameter)."""
    return "'" + str(path).replace("'", "''") + "'"


@contextmanager
def open_as_loaded(db: Db, as_loaded: str | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse as it stands now (as_loaded None: `reading`), or as it stood after the
    load or on the day `as_loaded` names (resolve_loads, which raises AsLoadedError)."""
    if as_loaded is None:
        with reading(db) as con:
            yield con
        return
    with reading(db) as con:
        loads = resolve_loads(con, as_loaded)
    with connect_as_loaded(db, loads) as con:
        yield con


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
def writing(db: Db) -> Iterator[duckdb.DuckDBPyConnection]:
    """An all-or-nothing write to the warehouse: a connection in an open transaction, the schema
    in place; the block ends it with `commit`, naming what it wrote. An exception, or a block
    that does not commit, writes nothing.

    Writers follow one another. A file's wait on its lock file (swap_write). A lake's wait on
    the advisory lock of its PostgreSQL catalog (lake.write_lock), held from BEGIN to COMMIT,
    so that loads of different sites from different processes or machines all succeed, one
    after another, where two at once would conflict at COMMIT. A lake write killed before its
    COMMIT leaves the lake at its last snapshot (and Parquet files no snapshot names, which
    `maintain` removes); PostgreSQL ends the lock with the killed writer's session."""
    address = lake_address(db)
    if address is None:
        with swap_write(db) as con, _transaction(con):
            yield con
        return
    con = _lake_cursor(address, create=True)
    try:
        with lake.write_lock(con, address), _transaction(con):
            ensure_schema(con)  # in the write's own snapshot: a first load is one snapshot too
            yield con
    finally:
        con.close()


@contextmanager
def reading_ahead_of_write(db: Db) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """Where a writer does its slow work (a load's validation) before it opens its write, a
    connection to read what that work needs; None where it does it inside the write.

    A lake's: its write lock is shared by the loads of every site, from every machine, so a
    load validates before it asks for the lock and holds it only to write; validations of
    different sites run at once and only their writes queue (docs/loading.md). The lake is
    made if it is not yet, as `writing` would make it, so one it cannot open is one line now,
    not after the validation. A file's: None. Its loads write each table while the next is
    validated, inside the write, a wall-clock saving a lake's short write does without."""
    address = lake_address(db)
    if address is None:
        yield None
        return
    con = _lake_cursor(address, create=True)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        _rollback(con)
        raise
    if _rollback(con):
        raise RuntimeError("a warehouse write ended without a commit: nothing was written")


def _rollback(con: duckdb.DuckDBPyConnection) -> bool:
    """Roll back the connection's open transaction; whether it had one."""
    try:
        con.execute("rollback")
    except duckdb.TransactionException:
        return False
    return True


def commit(con: duckdb.DuckDBPyConnection, message: str, **extra: Any) -> None:
    """Commit the transaction `writing` opened. On a lake its snapshot is named: author
    itb-audit, `message` (e.g. "load 12"), and `extra` as JSON, so the lake's list of snapshots
    (`FROM ducklake_snapshots('…')`) says which load or record each one is."""
    if is_lake(con):
        con.execute(
            "call ducklake_set_commit_message(current_database(), 'itb-audit', $message, "
            "extra_info => $extra)",
            {"message": message, "extra": json.dumps(extra, default=str)},
        )
    con.execute("commit")


@contextmanager
def swap_write(
    db_path: str | os.PathLike, rewrite: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a read-write connection to a copy of the warehouse; on success the copy replaces
    the warehouse atomically, on any exception the warehouse is left exactly as it was.
    `rewrite`: the copy is written afresh whatever its growth (_compact)."""
    db = Path(db_path).resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(db.with_name(db.name + ".lock")):
        # Copies left by a load that was killed: nobody else can be writing them (we hold the lock).
        for stale in db.parent.glob(f".{db.name}.loading-*"):
            stale.unlink()
        work = db.with_name(f".{db.name}.loading-{os.getpid()}")
        compact = work.with_name(work.name + "-compact")
        if db.exists():
            shutil.copyfile(db, work)
        try:
            con = duckdb.connect(str(work))
            try:
                ensure_schema(con)
                yield con
                con.execute("CHECKPOINT")
                grown = _grown(con, work)
            finally:
                con.close()
            if grown or rewrite:
                _compact(work, compact)
            _fsync(work)
            os.replace(work, db)
            _fsync(db.parent)
        finally:
            for leftover in (work, compact):
                for path in (leftover, leftover.with_name(leftover.name + ".wal")):
                    path.unlink(missing_ok=True)


# DuckDB never gives a file's freed blocks back, and the appends and closed versions of each
# load leave blocks half used: twelve monthly loads at 20,000 patients made a 28 MB file 57 MB
# while a fresh copy of the same data is 38 MB. A load that leaves the file this much larger
# than it was after the last rewrite writes it afresh (docs/loading.md, History).
REWRITE_AT_GROWTH = 1.25


def _grown(con: duckdb.DuckDBPyConnection, work: Path) -> bool:
    """Whether the written copy has grown past REWRITE_AT_GROWTH times its size after the last
    rewrite (audit.file_size; the first write records its own size)."""
    size = work.stat().st_size
    row = con.execute("select rewritten_bytes from audit.file_size").fetchone()
    if row is None:
        con.execute("insert into audit.file_size values (?)", [size])
        con.execute("CHECKPOINT")
        return False
    return size > REWRITE_AT_GROWTH * row[0]


def _compact(work: Path, compact: Path) -> None:
    """Rewrite the copy into a fresh file (every table, view and constraint, no free or half
    used block) and record that file's size."""
    with duckdb.connect() as con:
        con.execute(f"attach {_literal(work)} as grown (read_only)")
        con.execute(f"attach {_literal(compact)} as fresh")
        con.execute("copy from database grown to fresh")
        con.execute("detach fresh")
        con.execute(f"attach {_literal(compact)} as fresh")
        con.execute(
            "update fresh.audit.file_size set rewritten_bytes = ?", [compact.stat().st_size]
        )
        con.execute("detach fresh")
    os.replace(compact, work)


# maintain: a lake's snapshots kept this long can be read with AT (VERSION => n); older ones
# are expired. Figures never need them: --as-loaded reads history.*, which keeps every version.
KEEP_SNAPSHOTS_DAYS = 30
# Files a merge or an expiry left unused are deleted after this long, by a later maintain: a
# reader that began before the merge may still be scanning them.
UNUSED_FILES_GRACE = "1 hour"


def maintain(db: Db, keep_snapshots_days: int = KEEP_SNAPSHOTS_DAYS) -> dict[str, int]:
    """Keep the warehouse compact; what was done, as counts.

    A lake, under its write lock (no write runs meanwhile): inlined rows (small writes DuckLake
    keeps in the catalog) are written out to Parquet, small adjacent files merged, files mostly
    deleted rewritten, snapshots older than `keep_snapshots_days` expired, the files those
    left unused deleted once UNUSED_FILES_GRACE has passed, and orphan files (a killed write's,
    which no snapshot names) deleted: with the lock held no writer can be making one. A file
    is written afresh (swap_write's rewrite), which loads do by themselves as it grows."""
    address = lake_address(db)
    if address is None:
        before = Path(db).stat().st_size
        with swap_write(db, rewrite=True):
            pass
        return {"bytes_before": before, "bytes_after": Path(db).stat().st_size}
    steps = {
        "rows_flushed": "ducklake_flush_inlined_data(current_database())",
        "files_merged": "ducklake_merge_adjacent_files(current_database())",
        "files_rewritten": "ducklake_rewrite_data_files(current_database())",
        "snapshots_expired": "ducklake_expire_snapshots(current_database(), "
        f"older_than => now() - interval {int(keep_snapshots_days)} day)",
        "unused_files_deleted": "ducklake_cleanup_old_files(current_database(), "
        f"older_than => now() - interval {UNUSED_FILES_GRACE})",
        "orphan_files_deleted": "ducklake_delete_orphaned_files(current_database(), "
        "cleanup_all => true)",
    }
    counted = {
        "rows_flushed": "coalesce(sum(rows_flushed), 0)",
        "files_merged": "coalesce(sum(files_processed), 0)",
        "files_rewritten": "coalesce(sum(files_processed), 0)",
    }
    done = {}
    con = _lake_cursor(address)
    try:
        with lake.write_lock(con, address):
            for name, call in steps.items():
                # fetchall: a result left unread would leave the step uncommitted
                [(count,)] = con.execute(
                    f"select {counted.get(name, 'count(*)')} from {call}"
                ).fetchall()
                done[name] = int(count)
    finally:
        con.close()
    return done
