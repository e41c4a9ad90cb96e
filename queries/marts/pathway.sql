-- The referral-to-implant pathway (the funnel of the Trial response page).
--
-- Grain: one row per patient whose first referral (ever, whatever its triage outcome) was
-- received in the period.
-- Parameters: $start, $end (the period, inclusive), $as_of (= $end),
--             $sites (a list; NULL = all sites), $condition (primary_condition; NULL = all).
-- Each later step is the patient's first of its kind dated on or after the referral and on or
-- before as_of (so recent referrals have had less time to move on):
--   assessment_date  the first attended new_assessment appointment
--   trial_date       the first trial (test dose), whatever its outcome
--   implant_date     the first new_implant
-- days_to_assessment, days_to_trial, days_to_implant: days from the step before (referral,
-- assessment, trial), where both steps are dated.

with first_referrals as (
    select
        site,
        patient_id,
        min(received_date) as referral_date
    from core.referrals
    where in_scope(site, patient_id, $sites, $condition)
    group by site, patient_id
    having in_period(min(received_date), $start, $end)
),

assessments as (
    select
        r.site,
        r.patient_id,
        min(a.appointment_date) as assessment_date
    from first_referrals as r
    inner join core.appointments as a on r.site = a.site and r.patient_id = a.patient_id
    where
        a.type = 'new_assessment'
        and a.status = 'attended'
        and a.appointment_date between r.referral_date and $as_of
    group by r.site, r.patient_id
),

trials as (
    select
        r.site,
        r.patient_id,
        min(t.trial_date) as trial_date
    from first_referrals as r
    inner join core.trials as t on r.site = t.site and r.patient_id = t.patient_id
    where t.trial_date between r.referral_date and $as_of
    group by r.site, r.patient_id
),

implants as (
    select
        r.site,
        r.patient_id,
        min(i.implant_date) as implant_date
    from first_referrals as r
    inner join core.implants as i on r.site = i.site and r.patient_id = i.patient_id
    where
        i.procedure = 'new_implant'
        and i.implant_date between r.referral_date and $as_of
    group by r.site, r.patient_id
),

final as (
    select
        r.site,
        r.patient_id,
        p.primary_condition,
        r.referral_date,
        a.assessment_date,
        t.trial_date,
        i.implant_date,
        a.assessment_date - r.referral_date as days_to_assessment,
        t.trial_date - a.assessment_date as days_to_trial,
        i.implant_date - t.trial_date as days_to_implant
    from first_referrals as r
    inner join core.patients as p on r.site = p.site and r.patient_id = p.patient_id
    left join assessments as a on r.site = a.site and r.patient_id = a.patient_id
    left join trials as t on r.site = t.site and r.patient_id = t.patient_id
    left join implants as i on r.site = i.site and r.patient_id = i.patient_id
)

select * from final
order by site, referral_date, patient_id
