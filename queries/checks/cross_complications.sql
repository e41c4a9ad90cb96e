-- Grain: one row per complications row read. Columns for the complications_cross suite:
-- the patient rules (rows_with_patient) and the optional implant reference, which must exist
-- and belong to the same patient.
with rows as (
    select * from rows_with_patient
),

final as (
    select
        rows.*,
        case when rows.implant_id is not null then i.implant_id is not null end as implant_id__found,
        i.accepted as implant_id__parent_ok,
        case when i.unique_key then i.patient_id = rows.patient_id end as implant_id__same_patient
    from rows
    left join lookup_implants as i on i.implant_id = rows.implant_id
)

select * from final
