"""Read a clinic extract (CSV folder, Parquet folder or one .xlsx workbook) into text frames.

Every value is read as text, exactly as the clinic wrote it, so that validation sees what the
file holds and nothing is coerced on the way in. Structural problems (a missing table or column,
an unreadable file) raise LoadRefused: the contract says such a load changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.contract import CELL_ERRORS, TABLE_ORDER, TABLES

# The first data row is row 2: row 1 is the header, as a spreadsheet shows it (rows above the
# header that are blank push both down: the numbers stay those the clinic's editor shows).
FIRST_DATA_ROW = 2
# Excel's text for each error calamine (fastexcel's reader) reports, e.g. 'Error(Div0)'.
EXCEL_ERRORS = {
    "Div0": "#DIV/0!",
    "NA": "#N/A",
    "Value": "#VALUE!",
    "Ref": "#REF!",
    "Name": "#NAME?",
    "Null": "#NULL!",
    "Num": "#NUM!",
    "GettingData": "#GETTING_DATA",
}
CALAMINE_ERROR = re.compile(r"Error\((\w+)\)")
# Column types that are not cell values (Parquet): ignored when extra, refused in a contract column.
NOT_VALUES = {
    pl.List: "lists",
    pl.Array: "lists",
    pl.Struct: "structs",
    pl.Binary: "binary data",
    pl.Object: "objects",
}
# A workbook date cell (or a Parquet datetime) read as text carries a midnight time; in a date
# column that is the date. In CSV text it is a bad value, as the contract says.
MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"


class LoadRefused(Exception):
    """The extract cannot be trusted; the load changes nothing. str() is the one-line reason."""


@dataclass
class TableRead:
    table: str
    source_file: str  # file name (and sheet, for a workbook) the rows came from
    frame: pl.DataFrame  # source_row, contract columns as text, CELL_ERRORS; no blank rows
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class Extract:
    path: Path
    fmt: str  # csv | parquet | xlsx
    sha256: str  # over the bytes of every file read, in table order
    tables: dict[str, TableRead]

    @property
    def ignored_columns(self) -> dict[str, list[str]]:
        return {t: r.ignored_columns for t, r in self.tables.items() if r.ignored_columns}


@dataclass
class ExtractFiles:
    """An extract's files, read but not parsed: enough to fingerprint it (a reload of the same
    bytes need not parse them)."""

    path: Path
    fmt: str  # csv | parquet | xlsx
    sha256: str  # over the bytes of every file read, in table order
    files: dict[str, tuple[str, bytes]]  # table -> (file name, bytes), for a folder
    workbook: bytes | None = None  # the bytes of a workbook, whose sheets are the tables


def open_extract(path: str | Path) -> ExtractFiles:
    path = Path(path)
    if not path.exists():
        raise LoadRefused(f"{path}: no such file or folder")
    if path.is_file():
        if path.suffix.lower() != ".xlsx":
            raise LoadRefused(
                f"{path.name}: an extract is a folder of CSV or Parquet files or one .xlsx workbook"
            )
        return _workbook_files(path)
    return _folder_files(path)


def parse_extract(files: ExtractFiles) -> Extract:
    if files.workbook is not None:
        tables = _read_workbook(files.path.name, files.workbook)
    else:
        tables = {}
        for table, (name, data) in files.files.items():
            if files.fmt == "csv":
                frame, first_row = _read_csv(name, data)
                tables[table] = _conform(table, name, frame, first_row=first_row)
            else:
                tables[table] = _conform(table, name, _read_parquet(name, data), typed_cells=True)
    if all(t.frame.height == 0 for t in tables.values()):
        raise LoadRefused(f"{files.path.name}: the extract is empty (no data rows in any table)")
    return Extract(files.path, files.fmt, files.sha256, tables)


def _workbook_files(path: Path) -> ExtractFiles:
    data = path.read_bytes()
    return ExtractFiles(path, "xlsx", hashlib.sha256(data).hexdigest(), {}, workbook=data)


def _folder_files(folder: Path) -> ExtractFiles:
    by_name = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    forms = {ext for ext in ("csv", "parquet") if any(f"{t}.{ext}" in by_name for t in TABLES)}
    if not forms:
        workbooks = [p for p in by_name.values() if p.suffix.lower() == ".xlsx"]
        if len(workbooks) == 1:
            return _workbook_files(workbooks[0])
        raise LoadRefused(
            f"{folder}: the extract is empty (no patients.csv, patients.parquet or workbook)"
        )
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


def _refuse_repeated(source: str, names: list[str]) -> None:
    """A header naming a column twice (exactly, or in another case) cannot be read: which copy
    holds the values cannot be told. Readers check the names as the file holds them, before a
    library renames a second copy (polars: x_duplicated_0, fastexcel: x_1). Blank header cells
    are not names (their columns are ignored)."""
    seen: set[str] = set()
    for raw in names:
        name = (raw or "").strip().lower()
        if name in seen:
            raise LoadRefused(f"{source}: column '{name}' appears more than once")
        if name:
            seen.add(name)


def _read_csv(name: str, data: bytes) -> tuple[pl.DataFrame, int]:
    """The table and the line number of its first data row: polars skips empty lines above the
    header, which an editor still numbers."""
    if not data.strip():
        raise LoadRefused(f"{name}: the file is empty (no header row)")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        raise LoadRefused(
            f"{name}: not UTF-8 text (byte 0x{data[e.start]:02X} at offset {e.start}); "
            "save it as UTF-8"
        ) from e
    body = text.lstrip("\r\n")
    blank_lines = text[: len(text) - len(body)].count("\n")
    _refuse_repeated(name, next(csv.reader(_lines(body)), []))
    try:
        frame = pl.read_csv(data, infer_schema=False, quote_char='"', raise_if_empty=True)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as e:
        first = str(e).strip().splitlines()[0]
        raise LoadRefused(f"{name}: cannot be parsed as a CSV table ({first})") from e
    return frame, FIRST_DATA_ROW + blank_lines


def _lines(text: str) -> Iterator[str]:
    """The text's lines, one at a time (the header may span lines in quotes; copying a large
    file into a StringIO to read its header costs more than parsing it)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start) + 1 or len(text)
        yield text[start:end]
        start = end


def _read_parquet(name: str, data: bytes) -> pl.DataFrame:
    """The file's columns as stored (typed); _conform turns only the contract's into text."""
    import pyarrow.parquet as pq

    try:
        _refuse_repeated(name, pq.read_schema(io.BytesIO(data)).names)
        return pl.read_parquet(data)
    except LoadRefused:
        raise
    except Exception as e:  # pyarrow and polars raise several error types for a damaged file
        first = str(e).strip().splitlines()[0]
        raise LoadRefused(f"{name}: cannot be read as Parquet ({first})") from None


def _as_text(source: str, column: str, dtype: pl.DataType) -> pl.Expr:
    # Typed Parquet columns become the text a clinic would have written.
    if (kind := NOT_VALUES.get(dtype.base_type())) is not None:
        raise LoadRefused(f"{source}: column '{column}' holds {kind}, not text, numbers or dates")
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
        raise LoadRefused(
            f"{name}: cannot be read as an .xlsx workbook ({str(e).strip().splitlines()[0]})"
        ) from e
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
            # Every row from the sheet's row 1 (no header row, no leading rows skipped), so that
            # frame row i is spreadsheet row i + 1 however many blank rows precede the header.
            batch, errors = reader.load_sheet(
                sheet, header_row=None, skip_rows=0, dtypes="string"
            ).to_arrow_with_errors()
        except Exception as e:
            first = str(e).strip().splitlines()[0]
            raise LoadRefused(f"{source}: cannot be read as a table ({first})") from None
        cells = pl.from_arrow(batch)
        assert isinstance(cells, pl.DataFrame)  # a record batch converts to a frame
        tables[table] = _sheet_table(table, source, cells, errors.errors if errors else [])
    return tables


def _sheet_table(table: str, source: str, cells: pl.DataFrame, errors: list) -> TableRead:
    """A sheet read without a header: its first non-blank row is the header. Error cells
    (#DIV/0!, #N/A, ...) are read as null; they get their Excel text back, and the row's
    contract columns that hold one are listed in CELL_ERRORS."""
    texts: dict[tuple[int, int], str] = {}
    for error in errors:  # only error cells fail to read as text
        found = CALAMINE_ERROR.search(error.detail)
        name = found.group(1) if found else None
        texts[error.offset_position] = EXCEL_ERRORS.get(name, f"#{name}") if name else "#ERROR"
    for j, column in enumerate(cells.columns):
        at = sorted((i, text) for (i, c), text in texts.items() if c == j)
        if at:
            series = cells.get_column(column).clone()
            cells = cells.with_columns(series.scatter([i for i, _ in at], [t for _, t in at]))
    given = [_given(c, pl.String) for c in cells.columns]
    filled = cells.select(pl.any_horizontal(given)).to_series() if given else pl.Series([False])
    if not filled.any():  # no header: every required column is missing
        return _conform(table, source, pl.DataFrame())
    header_at = filled.arg_true()[0]
    header = list(cells.row(header_at))
    _refuse_repeated(source, header)
    names = [h.strip() if h and h.strip() else f"__UNNAMED__{j}" for j, h in enumerate(header)]
    data = cells.slice(header_at + 1).rename(dict(zip(cells.columns, names, strict=True)))
    contract = TABLES[table].column_names
    by_row: dict[int, list[str]] = {}
    for (i, j), text in sorted(texts.items()):
        if i > header_at and names[j].lower() in contract:
            by_row.setdefault(i - header_at - 1, []).append(f"{names[j].lower()} {text}")
    listed = [", ".join(by_row[i]) if i in by_row else None for i in range(data.height)]
    cell_errors = pl.Series(CELL_ERRORS, listed, dtype=pl.String)
    return _conform(
        table, source, data, first_row=header_at + 2, typed_cells=True, cell_errors=cell_errors
    )


def _given(column: str, dtype: pl.DataType | type[pl.DataType]) -> pl.Expr:
    """Whether a cell holds anything: not null and, if text, not only spaces."""
    value = pl.col(column)
    if dtype == pl.String:
        return value.is_not_null() & (value.str.strip_chars() != "")
    return value.is_not_null()


def _conform(
    table: str,
    source: str,
    frame: pl.DataFrame,
    *,
    first_row: int = FIRST_DATA_ROW,
    typed_cells: bool = False,
    cell_errors: pl.Series | None = None,
) -> TableRead:
    """Match the contract's columns (case-insensitive, trimmed), keep them as text, number rows
    from first_row. Repeated names were refused by the reader. typed_cells: the file held typed
    values (workbook, Parquet), so a date column's midnight datetimes are dates; other columns
    are never cast (an extra Parquet column may hold lists)."""
    spec = TABLES[table]
    found: dict[str, str] = {}
    ignored: list[str] = []
    for raw in frame.columns:
        name = raw.strip().lower()
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
        value = _as_text(source, found[c], frame.schema[found[c]])
        if typed_cells and spec.column(c).kind == "date":
            value = value.str.replace(MIDNIGHT, "${1}")
        return value.alias(c)

    if cell_errors is None:
        cell_errors = pl.Series(CELL_ERRORS, [None] * frame.height, dtype=pl.String)
    # A wholly empty line is not a record (CSV blank lines and rows of commas, trailing empty
    # spreadsheet rows). A row with text in an extra column only is one: it is kept, and
    # quarantined for having no values (normalise: HAS_VALUES).
    written = frame.select(
        pl.any_horizontal(_given(c, dtype) for c, dtype in frame.schema.items())
    ).to_series()
    # The lineage columns are added after the file's columns are dropped, so an extra column
    # named source_row or cell_errors is ignored like any other.
    rows = pl.int_range(first_row, first_row + frame.height, dtype=pl.Int32, eager=True)
    conformed = frame.select(*(text(c) for c in spec.column_names)).with_columns(
        rows.alias("source_row"), cell_errors.alias(CELL_ERRORS)
    )
    return TableRead(
        table,
        source,
        conformed.filter(written).select("source_row", *spec.column_names, CELL_ERRORS),
        ignored,
    )
