-- Activity in the period, for commissioners (docs/figures.md §6).
--
-- Grain: one row per period and record counted by an activity figure in that period; `figure`
-- names the figure, so a figure is count(*) over its rows (an attended new assessment is a row
-- of both new_assessments_attended and appointments_attended).
-- Parameters: $period_starts, $period_ends (the periods, inclusive: see the periods macro in
--             queries/macros/shared.sql), $sites (a list; NULL = all sites),
--             $condition (primary_condition; NULL = all).
--   referrals_received        referrals received, whatever their triage outcome
--   new_assessments_attended  attended appointments of type new_assessment
--   trials                    trials (test doses), not patients
--   new_implants, replacements implants by procedure
--   refills                   refills
--   appointments_attended, appointments_dna
--                             every appointment type, for dna_rate = dna / (attended + dna);
--                             cancelled appointments are in neither

with days as (
    select * from period_days($period_starts, $period_ends)
),

referrals as (
    select
        p.period_start,
        'referrals_received' as figure,
        r.site,
        r.referral_id as record_id,
        r.patient_id,
        r.received_date as activity_date
    from core.referrals as r
    inner join days as p on r.received_date = p.period_day
    where in_scope(r.site, r.patient_id, $sites, $condition)
),

appointments as (
    select
        p.period_start,
        a.site,
        a.appointment_id,
        a.patient_id,
        a.appointment_date,
        a.type,
        a.status
    from core.appointments as a
    inner join days as p on a.appointment_date = p.period_day
    where in_scope(a.site, a.patient_id, $sites, $condition)
),

appointment_figures as (
    select
        period_start,
        'new_assessments_attended' as figure,
        site,
        appointment_id,
        patient_id,
        appointment_date
    from appointments
    where type = 'new_assessment' and status = 'attended'
    union all
    select
        period_start,
        'appointments_' || status as figure,
        site,
        appointment_id,
        patient_id,
        appointment_date
    from appointments
    where status in ('attended', 'dna')
),

trials as (
    select
        p.period_start,
        'trials' as figure,
        t.site,
        t.trial_id,
        t.patient_id,
        t.trial_date
    from core.trials as t
    inner join days as p on t.trial_date = p.period_day
    where in_scope(t.site, t.patient_id, $sites, $condition)
),

implants as (
    select
        p.period_start,
        case i.procedure when 'new_implant' then 'new_implants' else 'replacements' end as figure,
        i.site,
        i.implant_id,
        i.patient_id,
        i.implant_date
    from core.implants as i
    inner join days as p on i.implant_date = p.period_day
    where in_scope(i.site, i.patient_id, $sites, $condition)
),

refills as (
    select
        p.period_start,
        'refills' as figure,
        r.site,
        r.refill_id,
        r.patient_id,
        r.refill_date
    from core.refills as r
    inner join days as p on r.refill_date = p.period_day
    where in_scope(r.site, r.patient_id, $sites, $condition)
),

final as (
    select * from referrals
    union all
    select * from appointment_figures
    union all
    select * from trials
    union all
    select * from implants
    union all
    select * from refills
)

select * from final
order by period_start, figure, site, activity_date, record_id
