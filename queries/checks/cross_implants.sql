-- Grain: one row per implants row read. Columns for the implants_cross suite: the patient
-- rules (rows_with_patient) and previous_pump_end, the latest end of the same patient's
-- earlier pumps (ordered by implant_date, implant_id; a pump still in situ ends on
-- 9999-12-31). A pump that starts before it overlaps an earlier pump: the later pump is the
-- row that breaks the rule. Pumps with an unreadable explant_date are left out of the
-- comparison (their own row is quarantined for it).
with rows as (
    select * from rows_with_patient
),

pump_spans as (
    select
        source_row,
        max(case when explant_date is null then date '9999-12-31' else explant_date__date end) over (
            partition by patient_id
            order by implant_date__date, implant_id, source_row
            rows between unbounded preceding and 1 preceding
        ) as previous_pump_end
    from checked_rows
    where patient_id is not null and implant_date__date is not null
),

final as (
    select rows.*, pump_spans.previous_pump_end
    from rows
    left join pump_spans using (source_row)
)

select * from final
