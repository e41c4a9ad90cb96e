-- Grain: one row per patient_id read (after normalisation), for the cross-table checks.
-- unique_key is false where several rows share the id (all of them are quarantined, and which
-- one a child means cannot be told, so its dates are not used); accepted is true when the
-- patient's row passed every check.
create or replace temp view lookup_patients as
with patients as (
    select * from status_patients
    where patient_id is not null
),

final as (
    select
        patient_id,
        count(*) = 1 as unique_key,
        bool_and(not quarantined) as accepted,
        case when count(*) = 1 then any_value(date_of_birth__date) end as date_of_birth,
        case when count(*) = 1 then any_value(date_of_death__date) end as date_of_death
    from patients
    group by patient_id
)

select * from final
