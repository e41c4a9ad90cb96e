-- Grain: one row per quarantined row of each site's current load.
-- Parameters: $site (NULL = every site). Meaning: the rows left out of every figure, with every
-- reason, the file and row to fix them at source, and their values (identifiers protected).
with current_loads as (
    select * from current_loads($site)
),

final as (
    select
        q.site,
        q.table_name,
        q.source_file,
        q.source_row,
        q.row_key,
        array_to_string(q.reason_codes, ', ') as reason_codes,
        array_to_string(q.reasons, '; ') as reasons,
        q.record
    from audit.quarantine as q
    inner join current_loads using (site, load_id)
    order by q.site, q.table_name, q.source_row
)

select * from final
