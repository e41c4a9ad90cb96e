-- Grain: one new row of governance.audits, its id one more than the highest recorded.
-- Parameters: every column but audit_id and recorded_at (the clock at the write).
insert into governance.audits (
    audit_id, recorded_at, recorded_by, period_start, period_end, site, note, loads,
    figure_settings, figures, pack_sha256
)
values (
    (select coalesce(max(audit_id), 0) + 1 from governance.audits),
    now()::timestamp, $recorded_by, $period_start, $period_end, $site, $note, $loads,
    $figure_settings, $figures, $pack_sha256
)
returning audit_id
