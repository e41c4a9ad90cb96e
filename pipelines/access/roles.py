"""Who may see what. The one statement of the role table; the query layer, the dashboard and
the exports all ask it, so that a page bug alone cannot show a role more than it may see."""

from __future__ import annotations

import hashlib
import hmac
from enum import Enum

import pandas as pd


# StrEnum would turn str()/f"{role}" from "Role.X" into the value: not audited for every use.
class Role(str, Enum):  # noqa: UP042
    CLINICIAN = "clinician"  # every page; patient lists with the clinic's local id
    GOVERNANCE = "governance"  # every page; patient lists with a stable pseudonymous id
    COMMISSIONER = "commissioner"  # aggregate figures only, small numbers suppressed
    DATA_MANAGER = "data_manager"  # data quality, quarantine contents, loading extracts
    ADMIN = "admin"  # user management and the access log


class Forbidden(PermissionError):
    """The role may not see this."""


FIGURE_PAGES = ("overview", "waits", "trials", "complications", "refills", "batteries", "outcomes")
PAGES: dict[Role, tuple[str, ...]] = {
    Role.CLINICIAN: (*FIGURE_PAGES, "data_quality"),
    Role.GOVERNANCE: (*FIGURE_PAGES, "data_quality", "audits"),
    Role.COMMISSIONER: FIGURE_PAGES,
    Role.DATA_MANAGER: ("data_quality", "load"),
    Role.ADMIN: ("users", "access_log"),
}


def sees_patient_rows(role: Role) -> bool:
    return role in (Role.CLINICIAN, Role.GOVERNANCE)


def edits_audits(role: Role) -> bool:
    """Records audits and edits their actions (pipelines/governance/)."""
    return role is Role.GOVERNANCE


def sees_quarantine_contents(role: Role) -> bool:
    return role is Role.DATA_MANAGER


def suppresses_small_numbers(role: Role) -> bool:
    return role is Role.COMMISSIONER


def require_patient_rows(role: Role) -> None:
    if not sees_patient_rows(role):
        raise Forbidden(f"the {role.value} role may not see patient-level rows")


def sees_pseudonyms(role: Role) -> bool:
    return role is Role.GOVERNANCE


# The prefix of each kind of record id's pseudonym, by the id column's entity ("refill_id" ->
# "refill"); an id column of another name (the activity mart's `record_id`) gets REC-.
ID_PREFIXES = {
    "patient": "PSN",
    "referral": "REF",
    "appointment": "APT",
    "trial": "TRL",
    "implant": "IMP",
    "refill": "RFL",
    "complication": "CMP",
}
NOT_CLINIC_IDS = {"load_id"}  # the warehouse's own load number


def is_record_id(column: str) -> bool:
    """Whether a column holds a clinic's record id (every `*_id` column but the load number)."""
    return column.endswith("_id") and column not in NOT_CLINIC_IDS


def site_digest(key: bytes, kind: str, site: str, value: str) -> str:
    """HMAC-SHA256 hex of a site's record id under the pseudonymisation key: the kind and site
    are hashed with it, so the same string as two kinds of id (a patient "225" and a referral
    "225"), or at two sites, gives unrelated digests."""
    return hmac.new(key, f"{kind}|{site}|{value}".encode(), hashlib.sha256).hexdigest()


def display_id(role: Role, site: str, column: str, value: str | None, key: bytes) -> str | None:
    """The id a role sees for a record id in `column` (patient_id, referral_id, refill_id, ...):
    the clinic's id for clinicians, else a pseudonym of its kind, stable within a site (the
    same record always gets the same one) and unlinkable without the key: a referral R00225
    and its patient H00225 get unrelated pseudonyms. A missing id stays missing."""
    require_patient_rows(role)
    if not sees_pseudonyms(role) or value is None or pd.isna(value):
        return value
    kind = column.removesuffix("_id")
    return f"{ID_PREFIXES.get(kind, 'REC')}-{site_digest(key, kind, site, value)[:12].upper()}"


def display_ids(role: Role, rows: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """Rows (with a `site` column) with every record id column as the role sees it."""
    require_patient_rows(role)
    if not sees_pseudonyms(role):
        return rows
    shown = rows.copy()
    for column in filter(is_record_id, rows.columns):
        shown[column] = [
            display_id(role, site, column, value, key)
            for site, value in zip(rows["site"], rows[column], strict=True)
        ]
    return shown
