-- Refill adherence and safety flags (docs/figures.md §4).
--
-- Grain: one row per period and refill dated in that period.
-- Parameters: $period_starts, $period_ends (the periods, inclusive: see the periods macro in
--             queries/macros/shared.sql), $sites (a list; NULL = all sites),
--             $condition (primary_condition; NULL = all), $alarm_volume_ml,
--             $max_refill_interval_days, $residual_discrepancy_ml.
-- due_date and alarm_date come from refill_chain() (queries/macros/shared.sql), run once from the
-- first period's start to the last one's end: a refill's due date depends only on the refills
-- before it, so a refill has the same due date in every period it falls in.
--   adherence              'on_time' (refill_date <= due_date), 'late', or 'no_due_date'
--   days_late              refill_date - due_date, for late refills
--   booked_after_alarm     next_due_date is after this refill's computed alarm date
--   days_past_alarm        next_due_date - alarm_date, for refills booked after the alarm
--   residual_discrepancy   both residuals recorded and
--                          |actual - expected| > $residual_discrepancy_ml
--                          (the difference is rounded to 6 decimals, as the volumes are recorded
--                          to a few decimals and 3.1 - 1.1 must be 2.0, not 2.0000000000000004)

with refills as (
    select
        r.*,
        p.period_start
    from
        refill_chain(
            $sites, $condition, $alarm_volume_ml, $max_refill_interval_days,
            list_min($period_starts::date[]), list_max($period_ends::date[])
        ) as r
    inner join period_days($period_starts, $period_ends) as p
        on r.refill_date = p.period_day
),

final as (
    select
        period_start,
        site,
        refill_id,
        patient_id,
        implant_id,
        refill_number,
        refill_date,
        due_date,
        fill_volume_ml,
        concentration_mcg_per_ml,
        daily_dose_mcg,
        alarm_date,
        next_due_date,
        expected_residual_ml,
        actual_residual_ml,
        case
            when due_date is null then 'no_due_date'
            when refill_date <= due_date then 'on_time'
            else 'late'
        end as adherence,
        case when refill_date > due_date then refill_date - due_date end as days_late,
        coalesce(next_due_date > alarm_date, false) as booked_after_alarm,
        case when booked_after_alarm then next_due_date - alarm_date end as days_past_alarm,
        round(abs(actual_residual_ml - expected_residual_ml), 6) as residual_difference_ml,
        coalesce(residual_difference_ml > $residual_discrepancy_ml, false) as residual_discrepancy
    from refills
)

select * from final
order by period_start, site, refill_date, refill_id
