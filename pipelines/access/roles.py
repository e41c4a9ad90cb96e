"""Who may see what. The one statement of the role table; the query layer, the dashboard and
the exports all ask it, so that a page bug alone cannot show a role more than it may see."""

from __future__ import annotations

import hashlib
import hmac
from enum import Enum


class Role(str, Enum):
    CLINICIAN = "clinician"          # every page; patient lists with the clinic's local id
    GOVERNANCE = "governance"        # every page; patient lists with a stable pseudonymous id
    COMMISSIONER = "commissioner"    # aggregate figures only, small numbers suppressed
    DATA_MANAGER = "data_manager"    # data quality, quarantine contents, loading extracts
    ADMIN = "admin"                  # user management and the access log


class Forbidden(PermissionError):
    """The role may not see this."""


FIGURE_PAGES = ("overview", "waits", "trials", "complications", "refills", "batteries", "outcomes")
PAGES: dict[Role, tuple[str, ...]] = {
    Role.CLINICIAN: (*FIGURE_PAGES, "data_quality"),
    Role.GOVERNANCE: (*FIGURE_PAGES, "data_quality"),
    Role.COMMISSIONER: FIGURE_PAGES,
    Role.DATA_MANAGER: ("data_quality", "load"),
    Role.ADMIN: ("users", "access_log"),
}


def sees_patient_rows(role: Role) -> bool:
    return role in (Role.CLINICIAN, Role.GOVERNANCE)


def sees_quarantine_contents(role: Role) -> bool:
    return role is Role.DATA_MANAGER


def suppresses_small_numbers(role: Role) -> bool:
    return role is Role.COMMISSIONER


def require_patient_rows(role: Role) -> None:
    if not sees_patient_rows(role):
        raise Forbidden(f"the {role.value} role may not see patient-level rows")


def display_patient_id(role: Role, site: str, patient_id: str, key: bytes) -> str:
    """The id a role sees for a patient: the local id for clinicians, else a stable pseudonym
    (the same patient always gets the same one, and it cannot be turned back without the key)."""
    require_patient_rows(role)
    if role is Role.CLINICIAN:
        return patient_id
    digest = hmac.new(key, f"patient|{site}|{patient_id}".encode(), hashlib.sha256).hexdigest()
    return f"PSN-{digest[:12].upper()}"
