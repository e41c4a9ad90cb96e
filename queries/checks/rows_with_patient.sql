-- Grain: one row per row read of the table being checked (registered as checked_rows).
-- Adds what the patient rules need: whether patient_id exists, whether that patient was
-- accepted, and the patient's dates of birth and death (null where the id is ambiguous).
-- A table with no other cross-table rule is checked on this view alone.
create or replace temp view rows_with_patient as
with rows as (
    select * from checked_rows
),

final as (
    select
        rows.*,
        p.accepted as patient_id__parent_ok,
        p.date_of_birth as patient_date_of_birth,
        p.date_of_death as patient_date_of_death,
        case when rows.patient_id is not null then p.patient_id is not null end
            as patient_id__found
    from rows
    left join lookup_patients as p on rows.patient_id = p.patient_id
)

-- The checked table's columns differ by table (validate.py registers checked_rows for each).
select * from final  -- noqa: AM04
