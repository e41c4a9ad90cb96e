-- Grain: one row per row read of the table being checked (checked_rows), for tables with an
-- optional referral_id (appointments): the patient rules (rows_with_patient) plus whether the
-- referral exists, was accepted, and belongs to the same patient.
create or replace temp view rows_with_referral as
with rows as (
    select * from rows_with_patient
),

final as (
    select
        rows.*,
        r.accepted as referral_id__parent_ok,
        case when rows.referral_id is not null then r.referral_id is not null end
            as referral_id__found,
        case when r.unique_key then r.patient_id = rows.patient_id end as referral_id__same_patient
    from rows
    left join lookup_referrals as r on rows.referral_id = r.referral_id
)

-- The checked table's columns differ by table (validate.py registers checked_rows for each).
select * from final  -- noqa: AM04
