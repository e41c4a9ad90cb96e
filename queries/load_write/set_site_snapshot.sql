-- Grain: one row per site. Parameters: $site, $load_id, $as_of. The site's current snapshot is
-- the one this load wrote (or carried over).
insert or replace into audit.site_snapshots (site, load_id, as_of)
values ($site, $load_id, $as_of)
