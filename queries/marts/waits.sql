-- Waits: referral received to first attended new assessment (docs/figures.md §1).
--
-- Grain: one row per period and referral in scope that is seen in the period or open at its
-- as_of (the period's last day).
-- Parameters: $period_starts, $period_ends (the periods, inclusive: see the periods macro in
--             queries/macros/shared.sql), $sites (a list; NULL = all sites), $condition
--             (primary_condition; NULL = all), $wait_target_days, $stale_referral_days.
-- In scope: triage_outcome not 'declined' or 'redirected' (pending and accepted count).
-- Clock start: received_date. Clock stop: the earliest attended new_assessment appointment of
-- the referral dated on or after received_date (a DNA does not stop the clock; an appointment
-- dated before the referral was received is ignored).
--   seen            clock stop in the period; wait_days = clock_stop - clock_start
--   within_target   seen and wait_days <= $wait_target_days
--   is_open         received by as_of, no clock stop on or before as_of, patient alive at as_of
--   over_target     open and as_of - received_date > $wait_target_days
--   to_validate     open and as_of - received_date > $stale_referral_days: so long open that
--                   the referral is likely closed in reality but not in the extract. A flag
--                   for the service to check; it stays in open and open_over_target.
-- The referral's source comes alongside, for waits by referral source.

with referrals as (
    select
        site,
        referral_id,
        patient_id,
        received_date,
        source,
        triage_outcome
    from core.referrals
    where
        in_scope(site, patient_id, $sites, $condition)
        and triage_outcome not in ('declined', 'redirected')
),

clock_stops as (
    select
        r.site,
        r.referral_id,
        min(a.appointment_date) as clock_stop
    from referrals as r
    inner join core.appointments as a
        on
            r.site = a.site
            and r.referral_id = a.referral_id
    where
        a.type = 'new_assessment'
        and a.status = 'attended'
        and a.appointment_date >= r.received_date
    group by r.site, r.referral_id
),

clocks as (
    select
        p.period_start,
        r.site,
        r.referral_id,
        r.patient_id,
        r.source,
        r.triage_outcome,
        r.received_date as clock_start,
        s.clock_stop,
        p.period_end as as_of,
        s.clock_stop - r.received_date as wait_days,
        coalesce(in_period(s.clock_stop, p.period_start, p.period_end), false) as seen,
        r.received_date <= p.period_end
        and (s.clock_stop is null or s.clock_stop > p.period_end)
        and alive_at(pt.date_of_death, p.period_end) as is_open
    from referrals as r
    inner join core.patients as pt on r.site = pt.site and r.patient_id = pt.patient_id
    left join clock_stops as s on r.site = s.site and r.referral_id = s.referral_id
    cross join periods($period_starts, $period_ends) as p
),

final as (
    select
        *,
        seen and wait_days <= $wait_target_days as within_target,
        case when is_open then as_of - clock_start end as days_waiting,
        is_open and days_waiting > $wait_target_days as over_target,
        is_open and days_waiting > $stale_referral_days as to_validate
    from clocks
    where seen or is_open
)

select * exclude (as_of) from final
order by period_start, site, clock_start, referral_id
