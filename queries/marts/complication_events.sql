-- Complications: events in the period (docs/figures.md §3), and the case review's rows.
--
-- Grain: one row per period and complication whose event_date is in that period.
-- Parameters: $period_starts, $period_ends (the periods, inclusive: see the periods macro in
--             queries/macros/shared.sql), $sites (a list; NULL = all sites),
--             $condition (primary_condition; NULL = all).
-- counted: the patient had a pump in situ on event_date (any of the patient's implants with
--          implant_date <= event_date <= explant_date, or no explant). Events that are not
--          counted (trial-related events, say) are reported apart as events outside exposure.
-- days_since_implant: event_date - implant_date of the event's own pump (its implant_id);
--          NULL when the event names no pump.
-- time_since_implant: days_since_implant in bands, both ends inclusive: up_to_30_days
--          (0-30, so day 30 is in it), up_to_1_year (31-365, day 365 in it), over_1_year
--          (366 on), before_implant (negative: the event predates the pump it names, a record
--          to check), no_pump_recorded (no implant_id).

with events as (
    select
        p.period_start,
        c.site,
        c.complication_id,
        c.patient_id,
        c.implant_id,
        c.event_date,
        c.category,
        c.subtype,
        c.related_to,
        c.severity,
        c.required_surgery
    from core.complications as c
    inner join period_days($period_starts, $period_ends) as p
        on c.event_date = p.period_day
    where in_scope(c.site, c.patient_id, $sites, $condition)
),

with_pump as (
    select
        e.*,
        i.pump_model,
        i.implant_date,
        e.event_date - i.implant_date as days_since_implant
    from events as e
    left join core.implants as i
        on e.site = i.site and e.implant_id = i.implant_id
),

final as (
    select
        e.*,
        case
            when e.days_since_implant is null then 'no_pump_recorded'
            when e.days_since_implant < 0 then 'before_implant'
            when e.days_since_implant <= 30 then 'up_to_30_days'
            when e.days_since_implant <= 365 then 'up_to_1_year'
            else 'over_1_year'
        end as time_since_implant,
        exists(
            select 1
            from core.implants as i
            where
                i.site = e.site
                and i.patient_id = e.patient_id
                and i.implant_date <= e.event_date
                and (i.explant_date is null or e.event_date <= i.explant_date)
        ) as counted
    from with_pump as e
)

select * from final
order by period_start, site, event_date, complication_id
