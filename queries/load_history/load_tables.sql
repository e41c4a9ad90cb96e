-- Grain: one row per table of each site's current load.
-- Parameters: $site (NULL = every site). Meaning: rows read, accepted and quarantined, which
-- always reconcile (read = accepted + quarantined).
with current_loads as (
    select * from current_loads($site)
),

final as (
    select
        current_loads.site,
        t.table_name,
        t.source_file,
        t.rows_read,
        t.rows_accepted,
        t.rows_quarantined
    from audit.load_tables as t
    inner join current_loads on t.load_id = current_loads.load_id
    order by current_loads.site, t.table_name
)

select * from final
