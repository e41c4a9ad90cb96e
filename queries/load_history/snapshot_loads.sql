-- Grain: one row per site (by site). Parameters: $site (NULL = every site). Meaning: the load
-- each figure of the site is computed from, and its extract's as-of date: the site's current
-- load, or the load a connection pinned to a past state holds (pipelines/warehouse.py).
with final as (
    select
        snapshots.site,
        snapshots.load_id,
        snapshots.as_of
    from audit.site_snapshots as snapshots
    where $site is null or snapshots.site = $site
    order by snapshots.site
)

select * from final
