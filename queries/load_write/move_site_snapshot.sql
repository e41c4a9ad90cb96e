-- Grain: one row per site. Parameters: $site, $load_id. A reload points the site's current
-- snapshot at its own load id (the rows and as-of date are unchanged).
update audit.site_snapshots
set load_id = $load_id
where site = $site
