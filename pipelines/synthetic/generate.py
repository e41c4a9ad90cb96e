"""Synthetic clinic extracts that follow the data contract (docs/contract.md).

`generate_extract` simulates one ITB service's records over the twelve years before `as_of`:
referral, triage and first assessment; the intrathecal test dose; pumps with their refills,
battery replacements, complications and explants; deaths; outcome measures. It then writes them
the way clinic systems do (some UK dates, other spellings of codes, mixed booleans) so that the
loader is exercised, while every row stays valid by the contract.

The same arguments give byte-identical CSV files: all randomness comes from numpy Generators
seeded with `seed`, and nothing depends on today's date. While the pathway is built, dates are
day numbers (days since 1970-01-01) so that date arithmetic is plain integer arithmetic.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from pipelines.contract import TABLES
from pipelines.synthetic.parameters import Draws
from pipelines.synthetic.simulation import Service, nhs_numbers
from pipelines.synthetic.writers import WRITERS, as_text


def generate_extract(
    out: Path, *, patients: int, seed: int, as_of: dt.date, fmt: str
) -> dict[str, int]:
    """Write a synthetic extract of `patients` patients as of `as_of`; returns rows per table.

    fmt "csv" or "parquet": a folder OUT of one file per table (parquet columns are all text, the
    same text as the CSV). "xlsx": the workbook OUT if it ends with .xlsx, else OUT/extract.xlsx,
    one sheet per table, with dates as date cells and numbers as numbers.
    """
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r}: use csv, parquet or xlsx")
    if patients < 1:
        raise ValueError("patients must be at least 1")
    # Separate streams, so the pathway does not shift when the identity or text draws change.
    pathway_rng, identity_rng, text_rng = np.random.default_rng(seed).spawn(3)
    service = Service(Draws(pathway_rng), as_of)
    for number, nhs_number in enumerate(nhs_numbers(identity_rng, patients), start=1):
        service.patient(number, nhs_number)
    frames = {
        name: as_text(frame, TABLES[name], text_rng) for name, frame in service.frames().items()
    }
    WRITERS[fmt](Path(out), frames, as_of)
    return {name: frame.height for name, frame in frames.items()}
