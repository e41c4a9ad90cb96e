-- Grain: one new row of governance.actions, its id one more than the highest. Parameters:
-- every column but action_id and the times (the clock at the write); updated_by = created_by.
insert into governance.actions (
    action_id, audit_id, against_kind, against, what, owner, due_date, status, notes,
    created_at, created_by, updated_at, updated_by
)
values (
    (select coalesce(max(action_id), 0) + 1 from governance.actions),
    $audit_id, $against_kind, $against, $what, $owner, $due_date, $status, $notes,
    now()::timestamp, $by, now()::timestamp, $by
)
returning action_id
