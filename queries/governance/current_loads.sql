-- Grain: one row per site. Parameters: $site (NULL = every site). Meaning: the load whose rows
-- are each site's current data: what an audit recorded now is computed from.
with snapshots as (
    select
        site,
        load_id
    from audit.site_snapshots
    where $site is null or site = $site
),

final as (
    select
        site,
        load_id
    from snapshots
    order by site
)

select * from final
