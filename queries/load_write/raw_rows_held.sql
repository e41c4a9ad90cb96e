-- Grain: zero or one row. Parameters: $site, $extract_sha256. The newest load of the site whose
-- raw rows came from the same bytes: a new load of them points there instead of storing the raw
-- rows twice.
select raw_load_id
from audit.loads
where site = $site and extract_sha256 = $extract_sha256
order by load_id desc
limit 1
