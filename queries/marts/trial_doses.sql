-- Trial response by test dose (the Trial response page).
--
-- Grain: one row per trial (test dose) dated in the period.
-- Parameters: $start, $end (the period, inclusive), $sites (a list; NULL = all sites),
--             $condition (primary_condition; NULL = all).
-- A dose's response rate is positive / (positive + negative) over its trials; inconclusive trials
-- are in neither. Unlike trials.sql (one row per patient, cohort by first trial), every trial
-- counts here: a patient given 50 mcg, then 75 mcg, counts once at each dose.

with trials as (
    select
        site,
        trial_id,
        patient_id,
        trial_date,
        method,
        dose_mcg,
        outcome
    from core.trials
    where
        in_scope(site, patient_id, $sites, $condition)
        and in_period(trial_date, $start, $end)
),

final as (
    select
        t.*,
        p.primary_condition
    from trials as t
    inner join core.patients as p on t.site = p.site and t.patient_id = p.patient_id
)

select * from final
order by site, trial_date, trial_id
