-- Grain: zero or one row. Parameters: $site, $fingerprint. The site's current load, if it was
-- made from exactly this extract, as-of date, key and rules (then a reload need not validate).
select loads.load_id
from audit.site_snapshots as snapshots
inner join audit.loads as loads on snapshots.load_id = loads.load_id
where snapshots.site = $site and loads.fingerprint = $fingerprint
