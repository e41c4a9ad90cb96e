"""An extract uploaded in the browser, loaded through the same pipeline and refusal rules as
`itb-audit load`: the files are checked (the contract's forms only, within the size limit),
saved to a private temporary folder and loaded by the command line in a subprocess, so Great
Expectations never runs in (or is imported by) the dashboard process."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pipelines.config import PROJECT_ROOT
from pipelines.contract import TABLES

FORMS = (".csv", ".parquet", ".xlsx")
REFUSED_PREFIX = "load refused: "
LOAD_TIMEOUT_SECONDS = 30 * 60


class UploadRefused(ValueError):
    """Files that are not an extract of the data contract."""


class Upload(Protocol):  # what st.file_uploader gives
    name: str
    size: int

    def getvalue(self) -> bytes: ...


@dataclass(frozen=True)
class Outcome:
    """A load's summary (`itb-audit load --json`), or the line saying why it was refused."""

    summary: dict[str, Any] | None = None
    refusal: str | None = None


def check(files: list[Upload], limit_mb: int) -> str:
    """The extract's form (".csv", ".parquet" or ".xlsx"): a set of CSV files or of Parquet
    files named after the contract's tables, or one workbook, in all at most limit_mb."""
    if not files:
        raise UploadRefused("no file chosen")
    names = [Path(f.name).name for f in files]
    forms = {Path(n).suffix.lower() for n in names}
    if len(forms) > 1 or not forms <= set(FORMS):
        raise UploadRefused(
            "an extract is a set of .csv files, a set of .parquet files or one "
            f".xlsx workbook (got {', '.join(sorted(names))})"
        )
    form = forms.pop()
    if form == ".xlsx" and len(files) > 1:
        raise UploadRefused("an .xlsx extract is one workbook")
    if form != ".xlsx":
        strangers = sorted(n for n in names if Path(n).stem.lower() not in TABLES)
        if strangers:
            raise UploadRefused(
                f"not a table of the data contract: {', '.join(strangers)} "
                f"(the tables: {', '.join(TABLES)})"
            )
    if len({n.lower() for n in names}) < len(names):
        raise UploadRefused("the same file was chosen twice")
    total = sum(f.size for f in files)
    if total > limit_mb * 1024 * 1024:
        raise UploadRefused(
            f"{total / 1024 / 1024:.0f} MB is over the upload limit of {limit_mb} MB"
        )
    return form


def load(files: list[Upload], db: str, site: str, as_of: dt.date, limit_mb: int) -> Outcome:
    """Check the files, then load them with `itb-audit load FOLDER --db DB --site SITE
    --as-of DATE --json` in a subprocess; the temporary folder is removed afterwards."""
    form = check(files, limit_mb)
    with tempfile.TemporaryDirectory(prefix="itb-upload-") as folder:
        for f in files:
            name = Path(f.name).name
            (Path(folder) / (name.lower() if form != ".xlsx" else name)).write_bytes(f.getvalue())
        target = next(Path(folder).iterdir()) if form == ".xlsx" else Path(folder)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "load",
                str(target),
                "--db",
                str(db),
                "--site",
                site,
                "--as-of",
                as_of.isoformat(),
                "--json",
            ],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            timeout=LOAD_TIMEOUT_SECONDS,
        )
        # The folder is temporary: name what the user uploaded instead.
        stderr = done.stderr.replace(str(target), "the upload").replace(folder, "the upload")
    if done.returncode == 0:
        return Outcome(summary=json.loads(done.stdout))
    refusal = next((line for line in stderr.splitlines() if line.startswith(REFUSED_PREFIX)), None)
    if done.returncode == 2 and refusal:
        return Outcome(refusal=refusal)
    raise RuntimeError(
        f"itb-audit load failed (exit {done.returncode}): "
        f"{stderr.strip().splitlines()[-1] if stderr.strip() else 'no message'}"
    )
