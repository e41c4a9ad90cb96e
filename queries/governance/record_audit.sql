-- Grain: one new row of governance.audits. Parameters: every column but recorded_at (the clock
-- at the write); $audit_id from next_audit_id. No RETURNING: a lake does not take it.
insert into governance.audits (
    audit_id, recorded_at, recorded_by, period_start, period_end, site, note, loads,
    figure_settings, figures, pack_sha256
)
values (
    $audit_id,
    now()::timestamp, $recorded_by, $period_start, $period_end, $site, $note, $loads,
    $figure_settings, $figures, $pack_sha256
)
