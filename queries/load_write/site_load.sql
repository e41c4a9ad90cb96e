-- Grain: zero or one row. Parameters: $site. The site's current load. Every load of the site
-- that commits moves it to a new load id (ids are never reused), so the same id read twice
-- means no load of the site committed in between.
select snapshots.load_id
from audit.site_snapshots as snapshots
where snapshots.site = $site
