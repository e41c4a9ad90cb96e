-- Grain: one row per action, by audit then action. Parameters: $audit_id (NULL = every audit),
-- $action_id (NULL = every action). Meaning: the action plans as they stand now.
with actions as (
    select * from governance.actions
    where
        ($audit_id is null or audit_id = $audit_id)
        and ($action_id is null or action_id = $action_id)
),

final as (
    select
        action_id,
        audit_id,
        against_kind,
        against,
        what,
        owner,
        due_date,
        status,
        notes,
        created_at,
        created_by,
        updated_at,
        updated_by
    from actions
    order by audit_id, action_id
)

select * from final
