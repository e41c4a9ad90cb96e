-- Time from each implant to a first event, for Kaplan-Meier curves (the Complications page's
-- time to first catheter complication and first infection; the Pump batteries page's service
-- life by pump model).
--
-- Grain: one row per implant dated on or before as_of and per endpoint. Every implant up to
-- as_of counts, not only those of the period: a survival curve needs the whole follow-up.
-- Parameters: $as_of, $sites (a list; NULL = all sites),
--             $condition (primary_condition; NULL = all), and the settings' battery months:
--             $battery_model_keys, $battery_model_months, $default_battery_months (see the
--             battery_months macro in queries/macros/shared.sql).
-- Endpoints:
--   battery_end_of_life  the pump explanted with explant_reason battery_end_of_life
--   each complication category recorded in the warehouse: the first complication of that
--                        category dated while this pump was in situ (implant_date <= event_date
--                        <= explant_date, or no explant), as complication_events.sql counts it
-- Follow-up ends at the first of: the event, the explant, the patient's death, as_of.
--   event        true when the endpoint was reached during follow-up, false when censored
--   days         days from implant_date to the end of follow-up
--   has_battery  battery months > 0 (pumps without a battery have no battery service life)

with implants as (
    select
        i.site,
        i.implant_id,
        i.patient_id,
        i.procedure,
        i.pump_model,
        i.implant_date,
        battery_months(
            i.pump_model, $battery_model_keys, $battery_model_months, $default_battery_months
        ) > 0 as has_battery,
        case when i.explant_date <= $as_of then i.explant_reason end as explant_reason,
        -- least() skips NULLs: a missing explant or death date does not end follow-up
        least(i.explant_date, i.date_of_death, $as_of) as exit_date
    from implants_in_scope($sites, $condition) as i
    where i.implant_date <= $as_of
),

battery_end_of_life as (
    select
        site,
        implant_id,
        'battery_end_of_life' as endpoint,
        -- "event" is survival analysis's name for an endpoint reached (not censored)
        coalesce(explant_reason = 'battery_end_of_life', false) as event,  -- noqa: RF04
        exit_date as end_date
    from implants
),

complication_endpoints as (
    select distinct category as endpoint
    from core.complications
),

first_complications as (
    select
        i.site,
        i.implant_id,
        c.category as endpoint,
        min(c.event_date) as event_date
    from implants as i
    inner join core.complications as c on i.site = c.site and i.patient_id = c.patient_id
    where c.event_date between i.implant_date and i.exit_date
    group by i.site, i.implant_id, c.category
),

complications as (
    select
        i.site,
        i.implant_id,
        e.endpoint,
        f.event_date is not null as event,  -- noqa: RF04
        coalesce(f.event_date, i.exit_date) as end_date
    from implants as i
    cross join complication_endpoints as e
    left join first_complications as f
        on i.site = f.site and i.implant_id = f.implant_id and e.endpoint = f.endpoint
),

endpoints as (
    select * from battery_end_of_life
    union all
    select * from complications
),

final as (
    select
        i.site,
        i.implant_id,
        i.patient_id,
        i.procedure,
        i.pump_model,
        i.has_battery,
        i.implant_date,
        x.endpoint,
        x.event,  -- noqa: RF04
        x.end_date,
        x.end_date - i.implant_date as days  -- noqa: RF04
    from implants as i
    inner join endpoints as x on i.site = x.site and i.implant_id = x.implant_id
)

select * from final
order by site, implant_id, endpoint
