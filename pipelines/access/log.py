"""The access log: who saw what, and when. Append-only JSON lines in its own file (the warehouse
is replaced by every load and opened read-only by the dashboard).

Each event is one line written by one write() on a file opened with O_APPEND, so concurrent
sessions never interleave or overwrite lines, and nothing here ever rewrites the file. The file
is created readable by its owner only. Free text is never logged as typed: every string is
scrubbed of anything shaped like an NHS number (10 digits, spaced or not), and passwords are
never passed here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

NHS_NUMBER_SHAPE = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
REMOVED = "[number removed]"
COLUMNS = ["time", "user", "role", "event", "page", "detail"]


def scrub(value: Any) -> Any:
    if isinstance(value, str):
        return NHS_NUMBER_SHAPE.sub(REMOVED, value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value


def append(
    path: str | os.PathLike,
    *,
    user: str | None,
    role: str | None,
    event: str,
    page: str | None = None,
    **detail: Any,
) -> None:
    """Record one event. `detail`: what was shown (filters, a table's name and rows, a load's
    counts); JSON-able values only."""
    record = scrub(
        {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "user": user,
            "role": role,
            "event": event,
            "page": page,
            "detail": detail,
        }
    )
    line = (json.dumps(record, default=str, ensure_ascii=False) + "\n").encode()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read(path: str | os.PathLike, limit: int | None = None) -> pd.DataFrame:
    """The newest `limit` events (all when None), newest first; detail as compact JSON text."""
    path = Path(path)
    lines = path.read_text().splitlines() if path.exists() else []
    if limit is not None:
        lines = lines[-limit:]
    records = []
    for line in reversed(lines):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by a crash mid-write
            continue
    frame = pd.DataFrame(records, columns=COLUMNS)
    frame["detail"] = frame["detail"].map(lambda d: json.dumps(d, ensure_ascii=False))
    return frame
