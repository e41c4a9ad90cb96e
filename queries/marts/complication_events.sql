-- Complications: events in the period (docs/figures.md §3).
--
-- Grain: one row per complication whose event_date is in the period.
-- Parameters: $start, $end (the period, inclusive), $site (NULL = all sites),
--             $condition (primary_condition; NULL = all).
-- counted: the patient had a pump in situ on event_date (any of the patient's implants with
--          implant_date <= event_date <= explant_date, or no explant). Events that are not
--          counted (trial-related events, say) are reported apart as events outside exposure.

with events as (
    select
        site,
        complication_id,
        patient_id,
        implant_id,
        event_date,
        category,
        subtype,
        related_to,
        severity,
        required_surgery
    from core.complications
    where in_scope(site, patient_id, $site, $condition)
      and in_period(event_date, $start, $end)
),

final as (
    select
        e.*,
        exists (
            select 1
            from core.implants as i
            where i.site = e.site
              and i.patient_id = e.patient_id
              and i.implant_date <= e.event_date
              and (i.explant_date is null or e.event_date <= i.explant_date)
        ) as counted
    from events as e
)

select * from final
order by site, event_date, complication_id
