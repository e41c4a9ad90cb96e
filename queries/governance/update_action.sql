-- Grain: one row of governance.actions changed. Parameters: $action_id, the editable columns
-- as they now stand, and $by (who changed it, at the clock of the write).
update governance.actions
set
    against_kind = $against_kind,
    against = $against,
    what = $what,
    owner = $owner,
    due_date = $due_date,
    status = $status,
    notes = $notes,
    updated_at = now()::timestamp,
    updated_by = $by
where action_id = $action_id
