-- Grain: one row per implants row read (checked_rows). Columns for the implants_siblings suite:
-- previous_pump_end, the latest end of the same patient's earlier pumps (ordered by
-- implant_date, implant_id; a pump still in situ ends on 9999-12-31). A pump that starts before
-- it overlaps an earlier pump: the later pump is the row that breaks the rule. Only rows that
-- passed every other rule (passed_other_rules, set by pipelines/load/validate.py) are pumps:
-- a quarantined row neither overlaps nor is overlapped (its previous_pump_end is null).
with pumps as (
    select
        source_row,
        patient_id,
        implant_id,
        implant_date__date,
        explant_date__date
    from checked_rows
    where passed_other_rules
),

pump_spans as (
    select
        source_row,
        max(coalesce(explant_date__date, date '9999-12-31')) over (
            partition by patient_id
            order by implant_date__date, implant_id, source_row
            rows between unbounded preceding and 1 preceding
        ) as previous_pump_end
    from pumps
),

final as (
    select
        checked_rows.source_row,
        checked_rows.implant_date__date,
        pump_spans.previous_pump_end
    from checked_rows
    left join pump_spans on checked_rows.source_row = pump_spans.source_row
)

select * from final
