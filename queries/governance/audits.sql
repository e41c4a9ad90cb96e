-- Grain: one row per recorded audit, newest first. Parameters: $audit_id (NULL = every audit).
-- Meaning: the audits list of `itb-audit audit list` and the Audits page; figures, settings
-- and loads are the JSON text recorded.
with audits as (
    select * from governance.audits
    where $audit_id is null or audit_id = $audit_id
),

final as (
    select
        audit_id,
        recorded_at,
        recorded_by,
        period_start,
        period_end,
        site,
        note,
        loads::varchar as loads,
        figure_settings::varchar as figure_settings,
        figures::varchar as figures,
        pack_sha256
    from audits
    order by audit_id desc
)

select * from final
