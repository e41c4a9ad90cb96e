-- Grain: one row per row read of the table being checked (checked_rows), for tables with an
-- implant_id (refills, complications): the patient rules (rows_with_patient) plus whether the
-- implant exists, was accepted, and belongs to the same patient, and that pump's dates and
-- reservoir (for "refill_date within implant_date..explant_date" and "fill ≤ reservoir_ml").
create or replace temp view rows_with_implant as
with rows as (
    select * from rows_with_patient
),

final as (
    select
        rows.*,
        i.accepted as implant_id__parent_ok,
        i.implant_date as pump_implant_date,
        i.explant_date as pump_explant_date,
        i.reservoir_ml as pump_reservoir_ml,
        case when rows.implant_id is not null then i.implant_id is not null end
            as implant_id__found,
        case when i.unique_key then i.patient_id = rows.patient_id end as implant_id__same_patient
    from rows
    left join lookup_implants as i on rows.implant_id = i.implant_id
)

-- The checked table's columns differ by table (validate.py registers checked_rows for each).
select * from final  -- noqa: AM04
