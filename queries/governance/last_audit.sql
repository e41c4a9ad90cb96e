-- Grain: at most one row. Parameters: $site (NULL = all sites), $end. Meaning: "the last
-- audit" of a period ending on $end: the most recently recorded audit of the same scope (the
-- same site, or all sites) whose period ended before $end.
with same_scope as (
    select audit_id from governance.audits
    where site is not distinct from $site and period_end < $end
),

final as (
    select max(audit_id) as audit_id
    from same_scope
    having count(*) > 0
)

select * from final
