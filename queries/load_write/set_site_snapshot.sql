-- Grain: one row per site. Parameters: $site, $load_id, $as_of. The site's current snapshot is
-- the one this load wrote (or carried over): its row is replaced, or added for a new site. A
-- merge, not an insert or replace: a lake has no primary key to replace on.
merge into audit.site_snapshots as snapshots
using (
    select
        $site as site,
        $load_id as load_id,
        $as_of as as_of
) as loaded
    on snapshots.site = loaded.site
when matched then update set load_id = loaded.load_id, as_of = loaded.as_of
when not matched then
    insert (site, load_id, as_of)
    values (loaded.site, loaded.load_id, loaded.as_of)
