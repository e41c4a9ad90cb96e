-- Trial (test dose) response (docs/figures.md §2).
--
-- Grain: one row per patient in the cohort: patients whose first trial_date is in the period.
-- Parameters: $start, $end (the period, inclusive), $sites (a list; NULL = all sites),
--             $condition (primary_condition; NULL = all).
-- category: 'responder' when any of the patient's trials dated <= end is positive;
--           'non_responder' when none is positive and at least one is negative;
--           'inconclusive' otherwise. Trials after the period's end do not change the category.

with site_trials as (
    select
        site,
        patient_id,
        trial_date,
        outcome
    from core.trials
    where in_scope(site, patient_id, $sites, $condition)
),

per_patient as (
    select
        site,
        patient_id,
        min(trial_date) as first_trial_date,
        count(*) filter (where trial_date <= $end) as trials_to_end,
        count(*) filter (where trial_date <= $end and outcome = 'positive') as positive_trials,
        count(*) filter (where trial_date <= $end and outcome = 'negative') as negative_trials
    from site_trials
    group by site, patient_id
),

final as (
    select
        t.site,
        t.patient_id,
        p.primary_condition,
        t.first_trial_date,
        t.trials_to_end,
        t.positive_trials,
        t.negative_trials,
        case
            when t.positive_trials > 0 then 'responder'
            when t.negative_trials > 0 then 'non_responder'
            else 'inconclusive'
        end as category
    from per_patient as t
    inner join core.patients as p on t.site = p.site and t.patient_id = p.patient_id
    where in_period(t.first_trial_date, $start, $end)
)

select * from final
order by site, first_trial_date, patient_id
