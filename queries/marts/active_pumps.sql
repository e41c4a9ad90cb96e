-- Active pumps at as_of: refill due dates and battery forecast (docs/figures.md §4 and §5).
--
-- Grain: one row per active pump at as_of: implant_date <= as_of, no explant_date or
-- explant_date > as_of, and the patient alive at as_of.
-- Parameters: $as_of, $site (NULL = all sites), $condition (primary_condition; NULL = all),
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
    from implants_in_scope($site, $condition) as i
    where i.implant_date <= $as_of
      and (i.explant_date is null or i.explant_date > $as_of)
      and alive_at(i.date_of_death, $as_of)
),

refills_to_as_of as (
    select site, implant_id, refill_id, refill_date, next_refill_due_date, reported_eri_date
    from refills_in_scope($site, $condition, $alarm_volume_ml, $max_refill_interval_days)
    where refill_date <= $as_of
),

-- Per implant, from its latest refill (refill_date, then refill_id): the due date it set; and
-- the latest reported ERI date (arg_max skips the refills without one; arg_max_null does not).
latest_refill as (
    select
        site,
        implant_id,
        max(refill_date) as latest_refill_date,
        arg_max_null(next_refill_due_date, (refill_date, refill_id)) as next_refill_due_date,
        arg_max(reported_eri_date, (refill_date, refill_id)) as reported_eri_date
    from refills_to_as_of
    group by site, implant_id
),

forecast as (
    select
        p.*,
        r.latest_refill_date,
        -- a refill always sets a next due date, so a NULL here means the pump has no refill yet
        coalesce(r.next_refill_due_date, p.first_refill_due_date) as current_due_date,
        p.battery_months > 0 as has_battery,
        case when p.battery_months > 0 then r.reported_eri_date end as reported_eri_date,
        case
            when p.battery_months > 0
            then coalesce(r.reported_eri_date, (p.implant_date + to_months(p.battery_months))::date)
        end as forecast_eri_date
    from pumps as p
    left join latest_refill as r on r.site = p.site and r.implant_id = p.implant_id
),

final as (
    select
        *,
        coalesce(current_due_date < $as_of, false) as overdue_now,
        case when overdue_now then $as_of - current_due_date end as days_overdue,
        forecast_eri_date - $as_of as days_to_eri,
        coalesce(days_to_eri <= 0, false) as eri_overdue,
        coalesce(days_to_eri between 1 and 182, false) as eri_within_182_days,
        coalesce(days_to_eri between 1 and 365, false) as eri_within_365_days,
        year(forecast_eri_date) || '-Q' || quarter(forecast_eri_date) as eri_quarter
    from forecast
)

select * from final
order by site, patient_id, implant_id
