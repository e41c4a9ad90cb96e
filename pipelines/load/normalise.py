"""Turn the text of a table into the frame that validation checks and the warehouse stores.

For each contract column `c` the checked frame has:
  c         the value as the contract reads it: trimmed, blank -> null, codes canonical,
            UK dates rewritten as ISO; a value that cannot be read stays as written, so an
            expectation can name it;
  c__date / c__num / c__bool   the typed value where it could be read, else null.
NHS numbers are replaced by their keyed pseudonym before anything else sees them, with a
c__valid flag for the Modulus 11 check; postcodes keep only their outward code.
Two columns describe the row: HAS_VALUES (any contract column given) and the reader's
CELL_ERRORS (a workbook's error cells).
"""

from __future__ import annotations

import re

import nhs_number
import polars as pl

from pipelines.contract import BOOLEAN_FALSE, BOOLEAN_TRUE, CELL_ERRORS, HAS_VALUES, Column, Table
from pipelines.load.pseudonym import pseudonymise

# The contract allows spaces in an NHS number and nothing else (the library also takes hyphens).
TEN_DIGITS = re.compile(r"^\d{10}$")
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
UK_DATE = r"^(\d{2})/(\d{2})/(\d{4})$"
PLAIN_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$"
# UK postcode: outward code (area, district) then optionally the inward code.
POSTCODE = r"^([A-Z]{1,2}[0-9][A-Z0-9]?)( ?[0-9][A-Z]{2})?$"
REDACTED_POSTCODE = "[not a UK postcode: redacted]"


def _trimmed(name: str) -> pl.Expr:
    v = pl.col(name).str.strip_chars()
    return pl.when(v == "").then(None).otherwise(v)


def _date(c: Column) -> list[pl.Expr]:
    v = _trimmed(c.name)
    v = v.str.replace(UK_DATE, "${3}-${2}-${1}")
    parsed = pl.when(v.str.contains(ISO_DATE)).then(v.str.to_date("%Y-%m-%d", strict=False))
    return [v.alias(c.name), parsed.alias(f"{c.name}__date")]


def _code(c: Column) -> list[pl.Expr]:
    v = _trimmed(c.name).str.to_lowercase().str.replace_all(r"[ \-]", "_")
    if c.aliases:
        v = v.replace(c.aliases)
    if c.blank_means:
        v = v.fill_null(pl.lit(c.blank_means))
    return [v.alias(c.name)]


def _number(c: Column) -> list[pl.Expr]:
    v = _trimmed(c.name)
    parsed = pl.when(v.str.contains(PLAIN_NUMBER)).then(v.cast(pl.Float64, strict=False))
    return [v.alias(c.name), parsed.alias(f"{c.name}__num")]


def _boolean(c: Column) -> list[pl.Expr]:
    v = _trimmed(c.name).str.to_lowercase()
    parsed = pl.when(v.is_in(BOOLEAN_TRUE)).then(True).when(v.is_in(BOOLEAN_FALSE)).then(False)
    return [v.alias(c.name), parsed.alias(f"{c.name}__bool")]


EXPRESSIONS = {
    "date": _date,
    "code": _code,
    "number": _number,
    "boolean": _boolean,
    "text": lambda c: [_trimmed(c.name).alias(c.name)],
}


def protect(frame: pl.DataFrame, spec: Table, key: bytes) -> pl.DataFrame:
    """The raw text with identifiers made safe to keep: NHS number -> pseudonym, postcode ->
    outward code. Applied to the rows as read, before staging, checks or quarantine see them."""
    out = frame
    for c in spec.columns:
        if c.kind == "nhs_number":
            digits = _trimmed(c.name).str.replace_all(" ", "")
            values = out.select(digits).to_series().to_list()
            out = out.with_columns(
                pl.Series(c.name, pseudonymise(values, key), dtype=pl.String),
                pl.Series(
                    f"{c.name}__valid",
                    [
                        None if v is None else bool(TEN_DIGITS.match(v)) and nhs_number.is_valid(v)
                        for v in values
                    ],
                    dtype=pl.Boolean,
                ),
            )
        elif c.kind == "postcode":
            v = _trimmed(c.name).str.to_uppercase().str.replace_all(r"\s+", " ")
            out = out.with_columns(
                pl.when(v.is_null())
                .then(None)
                .when(v.str.contains(POSTCODE))
                .then(v.str.extract(POSTCODE, 1))
                .otherwise(pl.lit(REDACTED_POSTCODE))
                .alias(c.name)
            )
    return out


def normalise(protected: pl.DataFrame, spec: Table) -> pl.DataFrame:
    """The checked frame (see module doc) from a protected text frame."""
    exprs: list[pl.Expr] = [pl.col("source_row")]
    for c in spec.columns:
        if c.kind == "nhs_number":
            exprs += [pl.col(c.name), pl.col(f"{c.name}__valid")]
        elif c.kind == "postcode":
            # protect() already cut it to the outward code or the redaction marker.
            v = pl.col(c.name)
            exprs += [
                pl.when(v != REDACTED_POSTCODE).then(v).alias(c.name),
                pl.when(v.is_not_null()).then(v != REDACTED_POSTCODE).alias(f"{c.name}__valid"),
            ]
        else:
            exprs += EXPRESSIONS[c.kind](c)
    given = pl.any_horizontal(_trimmed(c.name).is_not_null() for c in spec.columns)
    return protected.select(*exprs, given.alias(HAS_VALUES), pl.col(CELL_ERRORS))
