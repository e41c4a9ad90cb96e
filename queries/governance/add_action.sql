-- Grain: one new row of governance.actions. Parameters: every column but the times (the clock
-- at the write), $action_id from next_action_id; updated_by = created_by. No RETURNING: a lake
-- does not take it.
insert into governance.actions (
    action_id, audit_id, against_kind, against, what, owner, due_date, status, notes,
    created_at, created_by, updated_at, updated_by
)
values (
    $action_id,
    $audit_id, $against_kind, $against, $what, $owner, $due_date, $status, $notes,
    now()::timestamp, $by, now()::timestamp, $by
)
