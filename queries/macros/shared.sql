-- Row-level rules shared by the marts (docs/figures.md).
--
-- The SQL linter reads a macro's body as a select clause and its parameters as column references,
-- so some of its rules misjudge this file: indentation and line breaks (a body is indented under
-- its `as`), reference qualification (a parameter is not a column of any table), and the column
-- count of a macro's `select *` (its table is the macro's argument).
-- noqa: disable=LT02,LT09,LT14,RF02,RF03,AM04
--
-- Created as TEMP macros on every cursor before a mart runs (pipelines/figures/queries.py), so each
-- rule is written once here and the marts call it by name. Macros cannot see prepared
-- parameters, so the marts pass $sites, $as_of and the settings in as arguments.

-- DuckDB runs an as-of join as a nested loop when it expects the probe side to be small, and it
-- expects a list of periods (unnest) to be one row: for active_pumps' pumps x periods that loop
-- took 20x longer than the as-of join. This cursor always uses the as-of join.
set asof_loop_join_threshold = 0;

-- A row is in scope: it belongs to one of the selected sites, and its patient's primary_condition
-- is the selected condition. The sites are a list (one site, or the several sites of a user of
-- several); a NULL selection means every site (or every condition). Every mart filters its rows
-- through this macro, so the site and condition filters are written once.
-- (The row's columns stay outside the subquery: inside it an unqualified `site` would name the
-- patients' column.)
create or replace temp macro in_scope(
    row_site, row_patient_id, selected_sites, selected_condition
) as
    (selected_sites is null or list_contains(selected_sites::varchar[], row_site))
    and (selected_condition is null or (row_site, row_patient_id) in (
        select site, patient_id from core.patients where primary_condition = selected_condition
    ));

-- "In the period": start <= d <= end, both inclusive. A missing date is never in the period
-- (NULL, which a filter or join treats as false; coalesce it where the flag is a column).
create or replace temp macro in_period(d, period_start, period_end) as
    d between period_start and period_end;

-- The periods a mart computes for: period i runs from period_starts[i] to period_ends[i], both
-- inclusive, and its as_of is its last day. The figures of one period pass one of each; a
-- monthly series passes every month, so each mart runs once for the whole series (the rows of
-- each period are exactly the rows of that period run alone).
create or replace temp macro periods(period_starts, period_ends) as table
    select
        unnest(period_starts::date[]) as period_start,
        unnest(period_ends::date[]) as period_end;

-- Every day of every period: one row per period and day (period_day) with in_period(period_day,
-- period_start, period_end). A mart joins its rows to a list of periods on date = period_day, an
-- equi-join, so a hash join: a date in no period (or NULL) matches no day, one in several periods
-- matches each. DuckDB joins rows to the periods on a range (in_period) with a nested loop, as it
-- expects the unnested list to be one row: for 120 months that loop was two thirds of the
-- activity mart's time at 20,000 patients, the hash join on 3,650 days a small part of it.
create or replace temp macro period_days(period_starts, period_ends) as table
    select
        period_start,
        period_end,
        unnest(generate_series(period_start, period_end, interval 1 day))::date as period_day
    from periods(period_starts, period_ends);

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

-- A pump model name with its spaces tidied: trimmed, each run of white space made one space.
create or replace temp macro model_spelling(pump_model) as
    trim(regexp_replace(pump_model, '\s+', ' ', 'g'));

-- The model a pump model name names: its tidied spelling lower-cased, so "SYNCHROMED II",
-- "SynchroMed II" and " Synchromed  II" are one model (pipelines.config.model_key keys the
-- settings' model names the same way).
create or replace temp macro model_key(pump_model) as
    lower(model_spelling(pump_model));

-- Each model recorded in the warehouse (model_key) with the one name it is shown by on every
-- page, list and pack: its most frequent spelling over every implant of every site, ties to
-- the spelling that sorts first (by character code, so capitals first). Counted over the
-- whole warehouse so that a filter never renames a model.
create or replace temp macro pump_model_names() as table
    with spellings as (
        select model_key(pump_model) as model_key, model_spelling(pump_model) as pump_model,
               count(*) as implants
        from core.implants
        group by all
    ),

    final as (
        select model_key, pump_model
        from spellings
        qualify row_number() over (
            partition by model_key order by implants desc, pump_model asc
        ) = 1
    )

    select * from final;

-- A pump model's months from implant to its battery's elective replacement indicator: the
-- settings' months for the model (model_keys are model_key()s of the settings' names,
-- model_months their months, in the same order), else default_months. 0 = a pump without a
-- battery.
create or replace temp macro battery_months(pump_model, model_keys, model_months, default_months) as
    coalesce(
        (model_months::integer[])[list_position(model_keys::varchar[], model_key(pump_model))],
        default_months
    );

-- Every refill in scope (selected site(s) and condition), with:
--   alarm_date           its computed alarm date;
--   next_refill_due_date the due date it sets for the implant's next refill: its next_due_date,
--                        or where that is blank its alarm_date.
create or replace temp macro refills_in_scope(
    selected_sites, selected_condition, alarm_volume_ml, max_refill_interval_days
) as table
    select
        r.*,
        computed_alarm_date(
            r.refill_date, r.fill_volume_ml, r.concentration_mcg_per_ml, r.daily_dose_mcg,
            alarm_volume_ml, max_refill_interval_days
        ) as alarm_date,
        coalesce(r.next_due_date, alarm_date) as next_refill_due_date
    from core.refills as r
    where in_scope(r.site, r.patient_id, selected_sites, selected_condition);

-- The refills in scope dated chain_start..chain_end, each in its implant's order of refills
-- (refill_date, then refill_id) and with the columns of refills_in_scope plus:
--   refill_number        its place in that order (1 = the implant's first refill);
--   due_date             its own due date: the previous refill's next_refill_due_date, or for
--                        the implant's first refill the implant's first_refill_due_date.
-- A refill's place and due date depend only on the implant's earlier refills, so the history is
-- sequenced up to chain_end. Every implant's, not only those with a refill in the span: picking
-- those out first (a semi-join on the history, which DuckDB then materialises) cost more than it
-- saved for any span of a month or more: 2.5x the CPU for 10 years at 20,000 patients.
create or replace temp macro refill_chain(
    selected_sites, selected_condition, alarm_volume_ml, max_refill_interval_days,
    chain_start, chain_end
) as table
    with history as (
        select *
        from refills_in_scope(
            selected_sites, selected_condition, alarm_volume_ml, max_refill_interval_days
        )
        where refill_date <= chain_end
    ),

    sequenced as (
        select
            *,
            row_number() over implant_order as refill_number,
            lag(next_refill_due_date) over implant_order as previous_next_refill_due_date
        from history
        window implant_order as (partition by site, implant_id order by refill_date, refill_id)
    )

    select
        s.* exclude (previous_next_refill_due_date),
        case
            when s.refill_number = 1 then i.first_refill_due_date
            else s.previous_next_refill_due_date
        end as due_date
    from sequenced as s
    inner join core.implants as i on s.site = i.site and s.implant_id = i.implant_id
    where s.refill_date >= chain_start;

-- Every implant in scope (selected site(s) and condition), with its patient's date of death:
-- what pump exposure, the active pumps and pump service life all start from. pump_model is
-- the model's shown name (pump_model_names), so every mart groups and lists models by it.
create or replace temp macro implants_in_scope(selected_sites, selected_condition) as table
    select i.* replace (m.pump_model as pump_model), p.date_of_death
    from core.implants as i
    inner join core.patients as p on i.site = p.site and i.patient_id = p.patient_id
    inner join pump_model_names() as m on m.model_key = model_key(i.pump_model)
    where in_scope(i.site, i.patient_id, selected_sites, selected_condition);

-- The load that holds each selected site's current data (NULL = every site).
create or replace temp macro current_loads(selected_site) as table
    select site, load_id from audit.site_snapshots
    where selected_site is null or site = selected_site;
