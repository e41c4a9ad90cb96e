"""Read a clinic extract (CSV folder, Parquet folder or one .xlsx workbook) into text frames.

Every value is read as text, exactly as the clinic wrote it, so that validation sees what the
file holds and nothing is coerced on the way in. Structural problems (a missing table or column,
an unreadable file) raise LoadRefused: the contract says such a load changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.contract import TABLE_ORDER, TABLES

# The first data row is row 2: row 1 is the header, as a spreadsheet shows it.
FIRST_DATA_ROW = 2
# A workbook date cell (or a Parquet datetime) read as text carries a midnight time; in a date
# column that is the date. In CSV text it is a bad value, as the contract says.
MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"


class LoadRefused(Exception):
    """The extract cannot be trusted; the load changes nothing. str() is the one-line reason."""


@dataclass
class TableRead:
    table: str
    source_file: str          # file name (and sheet, for a workbook) the rows came from
    frame: pl.DataFrame       # contract columns as text, plus source_row; blank rows removed
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class Extract:
    path: Path
    fmt: str                  # csv | parquet | xlsx
    sha256: str               # over the bytes of every file read, in table order
    tables: dict[str, TableRead]

    @property
    def ignored_columns(self) -> dict[str, list[str]]:
        return {t: r.ignored_columns for t, r in self.tables.items() if r.ignored_columns}


@dataclass
class ExtractFiles:
    """An extract's files, read but not parsed: enough to fingerprint it (a reload of the same
    bytes need not parse them)."""

    path: Path
    fmt: str                  # csv | parquet | xlsx
    sha256: str               # over the bytes of every file read, in table order
    files: dict[str, tuple[str, bytes]]  # table -> (file name, bytes), for a folder
    workbook: bytes | None = None        # the bytes of a workbook, whose sheets are the tables


def open_extract(path: str | Path) -> ExtractFiles:
    path = Path(path)
    if not path.exists():
        raise LoadRefused(f"{path}: no such file or folder")
    if path.is_file():
        if path.suffix.lower() != ".xlsx":
            raise LoadRefused(f"{path.name}: an extract is a folder of CSV or Parquet files or one .xlsx workbook")
        return _workbook_files(path)
    return _folder_files(path)


def parse_extract(files: ExtractFiles) -> Extract:
    if files.workbook is not None:
        tables = _read_workbook(files.path.name, files.workbook)
    else:
        read = _read_csv if files.fmt == "csv" else _read_parquet
        tables = {table: _conform(table, name, read(name, data), typed_cells=files.fmt == "parquet")
                  for table, (name, data) in files.files.items()}
    if all(t.frame.height == 0 for t in tables.values()):
        raise LoadRefused(f"{files.path.name}: the extract is empty (no data rows in any table)")
    return Extract(files.path, files.fmt, files.sha256, tables)


def _workbook_files(path: Path) -> ExtractFiles:
    data = path.read_bytes()
    return ExtractFiles(path, "xlsx", hashlib.sha256(data).hexdigest(), {}, workbook=data)


def _folder_files(folder: Path) -> ExtractFiles:
    by_name = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    forms = {
        ext for ext in ("csv", "parquet") if any(f"{t}.{ext}" in by_name for t in TABLES)
    }
    if not forms:
        workbooks = [p for p in by_name.values() if p.suffix.lower() == ".xlsx"]
        if len(workbooks) == 1:
            return _workbook_files(workbooks[0])
        raise LoadRefused(f"{folder}: the extract is empty (no patients.csv, patients.parquet or workbook)")
    if len(forms) > 1:
        raise LoadRefused(f"{folder}: holds both CSV and Parquet tables; give one form only")
    fmt = forms.pop()
    digest = hashlib.sha256()
    files: dict[str, tuple[str, bytes]] = {}
    for table in TABLE_ORDER:
        file = by_name.get(f"{table}.{fmt}")
        if file is None:
            if TABLES[table].required:
                raise LoadRefused(f"{table}.{fmt}: required table is missing from {folder}")
            continue
        data = file.read_bytes()
        digest.update(table.encode() + b"\0" + data)
        files[table] = file.name, data
    return ExtractFiles(folder, fmt, digest.hexdigest(), files)


def _read_csv(name: str, data: bytes) -> pl.DataFrame:
    if not data.strip():
        raise LoadRefused(f"{name}: the file is empty (no header row)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LoadRefused(f"{name}: not UTF-8 text (byte 0x{data[e.start]:02X} at offset {e.start}); save it as UTF-8")
    try:
        return pl.read_csv(data, infer_schema=False, quote_char='"', raise_if_empty=True)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as e:
        first = str(e).strip().splitlines()[0]
        raise LoadRefused(f"{name}: cannot be parsed as a CSV table ({first})")


def _read_parquet(name: str, data: bytes) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(data)
    except Exception as e:  # polars raises several error types for a damaged file
        raise LoadRefused(f"{name}: cannot be read as Parquet ({str(e).strip().splitlines()[0]})")
    return frame.with_columns(_as_text(name, dtype) for name, dtype in frame.schema.items())


def _as_text(column: str, dtype: pl.DataType) -> pl.Expr:
    # Typed Parquet columns become the text a clinic would have written.
    col = pl.col(column)
    if dtype == pl.Date:
        return col.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return col.dt.strftime("%Y-%m-%d %H:%M:%S")
    return col.cast(pl.String)


def _read_workbook(name: str, data: bytes) -> dict[str, TableRead]:
    import fastexcel

    try:
        reader = fastexcel.read_excel(data)
    except Exception as e:
        raise LoadRefused(f"{name}: cannot be read as an .xlsx workbook ({str(e).strip().splitlines()[0]})")
    sheets = {s.strip().lower(): s for s in reader.sheet_names}
    tables: dict[str, TableRead] = {}
    for table in TABLE_ORDER:
        sheet = sheets.get(table)
        source = f"{name}[{table}]"
        if sheet is None:
            if TABLES[table].required:
                raise LoadRefused(f"{source}: required sheet '{table}' is missing from {name}")
            continue
        try:
            frame = reader.load_sheet(sheet, dtypes="string").to_polars()
        except Exception as e:
            raise LoadRefused(f"{source}: cannot be read as a table ({str(e).strip().splitlines()[0]})")
        tables[table] = _conform(table, source, frame, typed_cells=True)
    return tables


def _conform(table: str, source: str, frame: pl.DataFrame, *, typed_cells: bool = False) -> TableRead:
    """Match the contract's columns (case-insensitive, trimmed), keep them as text, number rows.
    typed_cells: the file held typed values (workbook, Parquet), so a date column's midnight
    datetimes are dates."""
    spec = TABLES[table]
    found: dict[str, str] = {}
    ignored: list[str] = []
    for raw in frame.columns:
        name = raw.strip().lower()
        if name in found:
            raise LoadRefused(f"{source}: column '{name}' appears more than once")
        if name in spec.column_names:
            found[name] = raw
        else:
            ignored.append(raw.strip())
    for column in spec.required_columns:
        if column not in found:
            raise LoadRefused(f"{source}: required column '{column}' is missing")
    def text(c: str) -> pl.Expr:
        if c not in found:
            return pl.lit(None, pl.String).alias(c)
        value = pl.col(found[c]).cast(pl.String)
        if typed_cells and spec.column(c).kind == "date":
            value = value.str.replace(MIDNIGHT, "${1}")
        return value.alias(c)

    frame = frame.with_row_index("source_row", offset=FIRST_DATA_ROW).select(
        pl.col("source_row").cast(pl.Int32), *(text(c) for c in spec.column_names)
    )
    # A wholly empty line is not a record (CSV blank lines, trailing empty spreadsheet rows).
    values = [pl.col(c) for c in spec.column_names if c in found]
    blank = pl.all_horizontal(v.is_null() | (v.str.strip_chars() == "") for v in values)
    kept = frame.filter(~blank)
    return TableRead(table, source, kept, ignored)
