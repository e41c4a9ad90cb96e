-- Row-level rules shared by the marts (docs: ../../../shared/spec/kpis.md).
--
-- Created as TEMP macros on every cursor before a mart runs (pipelines/queries.py), so each
-- rule is written once here and the marts call it by name. Macros cannot see prepared
-- parameters, so the marts pass $site, $as_of and the settings in as arguments.

-- A row belongs to the selected site; a NULL selection means every site.
create or replace temp macro in_site(row_site, selected_site) as
    selected_site is null or row_site = selected_site;

-- "In the period": start <= d <= end, both inclusive. A missing date is never in the period.
create or replace temp macro in_period(d, period_start, period_end) as
    coalesce(d between period_start and period_end, false);

-- The patient is alive at as_of: no date of death, or death after as_of.
create or replace temp macro alive_at(date_of_death, as_of) as
    date_of_death is null or date_of_death > as_of;

-- Computed alarm date of a refill: refill_date + floor(min(days of drug above the alarm volume,
-- the stability cap)), never before refill_date. The day count is rounded to 6 decimals before
-- the floor so that binary floating point (12.2 mL - 2 mL = 10.199999...) cannot lose a day.
create or replace temp macro computed_alarm_date(
    refill_date, fill_volume_ml, concentration_mcg_per_ml, daily_dose_mcg,
    alarm_volume_ml, max_refill_interval_days
) as
    refill_date + greatest(0, floor(least(
        round((fill_volume_ml - alarm_volume_ml) * concentration_mcg_per_ml / daily_dose_mcg, 6),
        max_refill_interval_days
    )))::integer;

-- Every refill of the selected site(s), in order within its implant (refill_date, then
-- refill_id), with:
--   alarm_date           its computed alarm date;
--   next_refill_due_date the due date it sets for the implant's next refill: its next_due_date,
--                        or where that is blank its alarm_date;
--   due_date             its own due date: the previous refill's next_refill_due_date, or for
--                        the implant's first refill the implant's first_refill_due_date.
create or replace temp macro refill_chain(selected_site, alarm_volume_ml, max_refill_interval_days) as table
    with refills as (
        select
            r.*,
            computed_alarm_date(
                r.refill_date, r.fill_volume_ml, r.concentration_mcg_per_ml, r.daily_dose_mcg,
                alarm_volume_ml, max_refill_interval_days
            ) as alarm_date,
            coalesce(r.next_due_date, alarm_date) as next_refill_due_date
        from core.refills as r
        where in_site(r.site, selected_site)
    ),

    sequenced as (
        select
            *,
            row_number() over implant_order as refill_number,
            lag(next_refill_due_date) over implant_order as previous_next_refill_due_date
        from refills
        window implant_order as (partition by site, implant_id order by refill_date, refill_id)
    )

    select
        s.* exclude (previous_next_refill_due_date),
        case
            when s.refill_number = 1 then i.first_refill_due_date
            else s.previous_next_refill_due_date
        end as due_date
    from sequenced as s
    join core.implants as i on i.site = s.site and i.implant_id = s.implant_id;
