-- Grain: one row per quarantined row of each site's current load.
-- Parameters: $site (NULL = every site). Meaning: the rows left out of every figure, with every
-- reason, the file and row to fix them at source, and their values (identifiers protected).
with current_loads as (
    select * from current_loads($site)
),

quarantined as (
    select
        q.site,
        q.table_name,
        q.source_file,
        q.source_row,
        q.row_key,
        q.record,
        array_to_string(q.reason_codes, ', ') as reason_codes,
        array_to_string(q.reasons, '; ') as reasons
    from audit.quarantine as q
    inner join current_loads on q.site = current_loads.site and q.load_id = current_loads.load_id
),

final as (
    select
        site,
        table_name,
        source_file,
        source_row,
        row_key,
        reason_codes,
        reasons,
        record
    from quarantined
    order by site, table_name, source_row
)

select * from final
