-- Grain: one row per implant_id read, for the refills and complications checks
-- (see lookup_patients.sql).
create or replace temp view lookup_implants as
with implants as (
    select * from status_implants
    where implant_id is not null
),

final as (
    select
        implant_id,
        count(*) = 1 as unique_key,
        bool_and(not quarantined) as accepted,
        case when count(*) = 1 then any_value(patient_id) end as patient_id,
        case when count(*) = 1 then any_value(implant_date__date) end as implant_date,
        case when count(*) = 1 then any_value(explant_date__date) end as explant_date,
        case when count(*) = 1 then any_value(reservoir_ml__num) end as reservoir_ml
    from implants
    group by implant_id
)

select * from final
