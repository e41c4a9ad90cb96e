-- Active pumps at as_of: refill due dates and battery forecast (docs/figures.md §4 and §5).
--
-- Grain: one row per period and pump active at its as_of (the period's last day):
-- implant_date <= as_of, no explant_date or explant_date > as_of, and the patient alive at as_of.
-- Parameters: $period_starts, $period_ends (the periods: see the periods macro in
--             queries/macros/shared.sql), $sites (a list; NULL = all sites), $condition
--             (primary_condition; NULL = all),
--             $alarm_volume_ml, $max_refill_interval_days, and the settings' battery months:
--             $battery_model_keys, $battery_model_months, $default_battery_months (see the
--             battery_months macro in queries/macros/shared.sql).
--   current_due_date   the next_refill_due_date of the pump's latest refill dated <= as_of
--                      (refill_date, then refill_id), or first_refill_due_date if it has none
--   overdue_now        current_due_date < as_of (every active pump, battery or not)
--   days_overdue       as_of - current_due_date, for pumps overdue now
--   has_battery        battery months > 0; pumps without one have no ERI forecast and are
--                      left out of the battery figures
--   forecast_eri_date  reported_eri_date of the latest refill dated <= as_of that has one;
--                      else implant_date + battery months (calendar months, day clamped to
--                      the month's end)
--   eri_overdue, eri_within_182_days, eri_within_365_days, eri_quarter ('YYYY-Qn')

with pumps as (
    select
        p.period_start,
        p.period_end as as_of,
        i.site,
        i.implant_id,
        i.patient_id,
        i.procedure,
        i.pump_model,
        i.implant_date,
        i.first_refill_due_date,
        battery_months(
            i.pump_model, $battery_model_keys, $battery_model_months, $default_battery_months
        ) as battery_months
    from implants_in_scope($sites, $condition) as i
    inner join periods($period_starts, $period_ends) as p
        on
            i.implant_date <= p.period_end
            and (i.explant_date is null or i.explant_date > p.period_end)
            and alive_at(i.date_of_death, p.period_end)
),

-- Per implant and refill day, from that day's last refill (by refill_id): the due date it set;
-- and the latest reported ERI date up to that day (arg_max skips the refills without one,
-- arg_max_null does not; the window carries the latest one forward over days without one).
-- The refill in force at as_of is the last refill day <= as_of: an as-of join finds it for
-- each pump and period without sorting the history once per period.
refill_days as (
    select
        *,
        last_value(day_reported_eri_date ignore nulls) over (
            partition by site, implant_id order by refill_date
            rows between unbounded preceding and current row
        ) as reported_eri_date
    from (
        select
            site,
            implant_id,
            refill_date,
            arg_max_null(next_refill_due_date, refill_id) as next_refill_due_date,
            arg_max(reported_eri_date, refill_id) as day_reported_eri_date
        from refills_in_scope($sites, $condition, $alarm_volume_ml, $max_refill_interval_days)
        where refill_date <= list_max($period_ends::date[])
        group by site, implant_id, refill_date
    ) as refill_days
),

forecast as (
    select
        p.*,
        r.refill_date as latest_refill_date,
        -- a refill always sets a next due date, so a NULL here means the pump has no refill yet
        coalesce(r.next_refill_due_date, p.first_refill_due_date) as current_due_date,
        p.battery_months > 0 as has_battery,
        case when p.battery_months > 0 then r.reported_eri_date end as reported_eri_date,
        case
            when p.battery_months > 0
                then
                    coalesce(
                        r.reported_eri_date, (p.implant_date + to_months(p.battery_months))::date
                    )
        end as forecast_eri_date
    from pumps as p
    asof left join refill_days as r
        on p.site = r.site and p.implant_id = r.implant_id and p.as_of >= r.refill_date
),

final as (
    select
        *,
        coalesce(current_due_date < as_of, false) as overdue_now,
        case when overdue_now then as_of - current_due_date end as days_overdue,
        forecast_eri_date - as_of as days_to_eri,
        coalesce(days_to_eri <= 0, false) as eri_overdue,
        coalesce(days_to_eri between 1 and 182, false) as eri_within_182_days,
        coalesce(days_to_eri between 1 and 365, false) as eri_within_365_days,
        year(forecast_eri_date) || '-Q' || quarter(forecast_eri_date) as eri_quarter
    from forecast
)

select * exclude (as_of) from final
order by period_start, site, patient_id, implant_id
