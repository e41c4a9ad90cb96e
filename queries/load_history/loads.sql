-- Grain: one row per load (newest first), with its row counts over all tables.
-- Parameters: $site (NULL = every site). Meaning: the load history shown on Data quality, and
-- the data freshness of every page (the newest load per site is its current snapshot).
with loads as (
    select * from audit.loads
    where $site is null or site = $site
),

counts as (
    select
        load_id,
        sum(rows_read) as rows_read,
        sum(rows_accepted) as rows_accepted,
        sum(rows_quarantined) as rows_quarantined
    from audit.load_tables
    group by load_id
),

final as (
    select
        loads.load_id,
        loads.site,
        loads.finished_at,
        loads.as_of,
        loads.source_format,
        counts.rows_read,
        counts.rows_accepted,
        counts.rows_quarantined,
        snapshots.load_id is not null as is_current
    from loads
    inner join counts on loads.load_id = counts.load_id
    left join audit.site_snapshots as snapshots
        on loads.site = snapshots.site and loads.load_id = snapshots.load_id
    order by loads.load_id desc
)

select * from final
