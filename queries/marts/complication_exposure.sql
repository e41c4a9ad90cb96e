-- Complications: pump exposure in the period (docs/figures.md §3).
--
-- Grain: one row per implant with exposure in the period (exposure_days > 0). The patients in
-- this mart are the period's implanted patients; sum(exposure_days) / 365.25 is pump_years.
-- Parameters: $start, $end (the period, inclusive), $site (NULL = all sites),
--             $condition (primary_condition; NULL = all).
-- entry = max(implant_date, start); exit = the earliest of explant_date, the patient's
-- date_of_death and end + 1 day; exposure_days = exit - entry. So a pump explanted on the
-- period's first day has no exposure, one implanted on its last day has 1 day, and exposure
-- stops at death.

with implants as (
    select site, implant_id, patient_id, procedure, pump_model, implant_date, explant_date,
           date_of_death
    from implants_in_scope($site, $condition)
),

exposure as (
    select
        *,
        greatest(implant_date, $start) as entry_date,
        -- least() skips NULLs: a missing explant or death date does not end exposure
        least(explant_date, date_of_death, $end + 1) as exit_date
    from implants
),

final as (
    select *, exit_date - entry_date as exposure_days
    from exposure
    where exit_date > entry_date
)

select * from final
order by site, patient_id, implant_date, implant_id
