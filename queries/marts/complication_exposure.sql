-- Complications: pump exposure in the period (docs/figures.md §3).
--
-- Grain: one row per period and implant with exposure in that period (exposure_days > 0). The
-- patients of a period are its implanted patients; sum(exposure_days) / 365.25 is pump_years.
-- Parameters: $period_starts, $period_ends (the periods, inclusive: see the periods macro in
--             queries/macros/shared.sql), $sites (a list; NULL = all sites),
--             $condition (primary_condition; NULL = all).
-- entry = max(implant_date, start); exit = the earliest of explant_date, the patient's
-- date_of_death and end + 1 day; exposure_days = exit - entry. So a pump explanted on the
-- period's first day has no exposure, one implanted on its last day has 1 day, and exposure
-- stops at death.

with implants as (
    select
        site,
        implant_id,
        patient_id,
        procedure,
        pump_model,
        implant_date,
        explant_date,
        date_of_death
    from implants_in_scope($sites, $condition)
),

exposure as (
    select
        i.*,
        p.period_start,
        greatest(i.implant_date, p.period_start) as entry_date,
        -- least() skips NULLs: a missing explant or death date does not end exposure
        least(i.explant_date, i.date_of_death, p.period_end + 1) as exit_date
    from implants as i
    cross join periods($period_starts, $period_ends) as p
),

final as (
    select
        *,
        exit_date - entry_date as exposure_days
    from exposure
    where exit_date > entry_date
)

select * from final
order by period_start, site, patient_id, implant_date, implant_id
