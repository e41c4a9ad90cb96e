"""How a role sees a clinic's record ids (pipelines/access/roles.py): clinicians the clinic's own,
governance one keyed pseudonym per record, of its kind, stable within a site."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.access.roles import Forbidden, Role, display_id, display_ids

KEY = b"k" * 32


def test_ids_that_embed_the_patient_number_cannot_be_linked():
    # Real extracts: referral R00225 and implant I00225 belong to patient H00225.
    patient = display_id(Role.GOVERNANCE, "main", "patient_id", "H00225", KEY)
    referral = display_id(Role.GOVERNANCE, "main", "referral_id", "R00225", KEY)
    implant = display_id(Role.GOVERNANCE, "main", "implant_id", "I00225", KEY)
    assert patient.startswith("PSN-") and referral.startswith("REF-") and implant.startswith("IMP-")
    digests = [i.split("-")[1] for i in (patient, referral, implant)]
    assert not any("00225" in i for i in (patient, referral, implant))
    assert len(set(digests)) == 3
    # the same bare number as two kinds of id gets two unrelated pseudonyms
    assert (
        display_id(Role.GOVERNANCE, "main", "patient_id", "225", KEY).split("-")[1]
        != display_id(Role.GOVERNANCE, "main", "referral_id", "225", KEY).split("-")[1]
    )


def test_a_pseudonym_is_stable_within_a_site_and_differs_across_sites_and_keys():
    once = display_id(Role.GOVERNANCE, "main", "refill_id", "F0000001", KEY)
    assert once == display_id(Role.GOVERNANCE, "main", "refill_id", "F0000001", KEY)
    assert once != display_id(Role.GOVERNANCE, "north", "refill_id", "F0000001", KEY)
    assert once != display_id(Role.GOVERNANCE, "main", "refill_id", "F0000001", b"j" * 32)


def test_every_record_id_column_is_pseudonymised_for_governance_only():
    rows = pd.DataFrame(
        {
            "site": ["main", "main", "north"],
            "patient_id": ["P1", "P1", "P1"],
            "referral_id": ["R1", None, "R1"],
            "record_id": ["A9", "A9", "A9"],
            "load_id": [3, 3, 4],
            "days_waiting": [10, 20, 30],
        }
    )
    shown = display_ids(Role.GOVERNANCE, rows, KEY)
    assert shown["patient_id"].str.startswith("PSN-").all()
    assert shown["patient_id"].iloc[0] == shown["patient_id"].iloc[1]  # same site, same id
    assert shown["patient_id"].iloc[0] != shown["patient_id"].iloc[2]  # another site
    assert shown["referral_id"].iloc[0].startswith("REF-") and shown["referral_id"].iloc[1] is None
    assert shown["record_id"].str.startswith("REC-").all()
    assert shown[["load_id", "days_waiting"]].equals(rows[["load_id", "days_waiting"]])
    assert display_ids(Role.CLINICIAN, rows, KEY).equals(rows)
    with pytest.raises(Forbidden):
        display_ids(Role.COMMISSIONER, rows, KEY)
