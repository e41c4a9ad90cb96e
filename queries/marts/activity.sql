-- Activity in the period, for commissioners (docs/figures.md §6).
--
-- Grain: one row per record counted by an activity figure; `figure` names the figure, so a
-- figure is count(*) over its rows (an attended new assessment is a row of both
-- new_assessments_attended and appointments_attended).
-- Parameters: $start, $end (the period, inclusive), $site (NULL = all sites),
--             $condition (primary_condition; NULL = all).
--   referrals_received        referrals received, whatever their triage outcome
--   new_assessments_attended  attended appointments of type new_assessment
--   trials                    trials (test doses), not patients
--   new_implants, replacements implants by procedure
--   refills                   refills
--   appointments_attended, appointments_dna
--                             every appointment type, for dna_rate = dna / (attended + dna);
--                             cancelled appointments are in neither

with referrals as (
    select 'referrals_received' as figure, site, referral_id as record_id, patient_id,
           received_date as activity_date
    from core.referrals
    where in_scope(site, patient_id, $site, $condition)
      and in_period(received_date, $start, $end)
),

appointments as (
    select site, appointment_id, patient_id, appointment_date, type, status
    from core.appointments
    where in_scope(site, patient_id, $site, $condition)
      and in_period(appointment_date, $start, $end)
),

appointment_figures as (
    select 'new_assessments_attended' as figure, site, appointment_id, patient_id, appointment_date
    from appointments
    where type = 'new_assessment' and status = 'attended'
    union all
    select 'appointments_' || status, site, appointment_id, patient_id, appointment_date
    from appointments
    where status in ('attended', 'dna')
),

trials as (
    select 'trials' as figure, site, trial_id, patient_id, trial_date
    from core.trials
    where in_scope(site, patient_id, $site, $condition)
      and in_period(trial_date, $start, $end)
),

implants as (
    select
        case procedure when 'new_implant' then 'new_implants' else 'replacements' end as figure,
        site, implant_id, patient_id, implant_date
    from core.implants
    where in_scope(site, patient_id, $site, $condition)
      and in_period(implant_date, $start, $end)
),

refills as (
    select 'refills' as figure, site, refill_id, patient_id, refill_date
    from core.refills
    where in_scope(site, patient_id, $site, $condition)
      and in_period(refill_date, $start, $end)
),

final as (
    select * from referrals
    union all select * from appointment_figures
    union all select * from trials
    union all select * from implants
    union all select * from refills
)

select * from final
order by figure, site, activity_date, record_id
