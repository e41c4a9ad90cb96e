-- Complications: events in the period (docs/figures.md §3).
--
-- Grain: one row per period and complication whose event_date is in that period.
-- Parameters: $period_starts, $period_ends (the periods, inclusive: see the periods macro in
--             queries/macros/shared.sql), $site (NULL = all sites),
--             $condition (primary_condition; NULL = all).
-- counted: the patient had a pump in situ on event_date (any of the patient's implants with
--          implant_date <= event_date <= explant_date, or no explant). Events that are not
--          counted (trial-related events, say) are reported apart as events outside exposure.

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
    inner join periods($period_starts, $period_ends) as p
        on in_period(c.event_date, p.period_start, p.period_end)
    where in_scope(c.site, c.patient_id, $site, $condition)
),

final as (
    select
        e.*,
        exists(
            select 1
            from core.implants as i
            where
                i.site = e.site
                and i.patient_id = e.patient_id
                and i.implant_date <= e.event_date
                and (i.explant_date is null or e.event_date <= i.explant_date)
        ) as counted
    from events as e
)

select * from final
order by period_start, site, event_date, complication_id
