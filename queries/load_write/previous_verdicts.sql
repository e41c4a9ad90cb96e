-- Grain: one row per distinct frame row of each suite in the site's latest validated load.
-- Parameters: $site, $rules_version. The row-local verdicts that load reached (failed rules
-- and rules whose row condition left the row out, by position in the suite) and its as-of
-- date, reusable only under the same rules version: none when the rules have changed since.
-- With the site's current load, read in the same statement (so from the same snapshot): a
-- load that validates before it takes a lake's write lock reuses them only if that is still
-- the site's current load under the lock (pipelines/load/snapshot.py).
select
    verdicts.suite,
    reached.as_of,
    snapshots.load_id as site_load_id,
    verdicts.row_hash,
    verdicts.failed,
    verdicts.outside
from audit.row_verdicts as verdicts
inner join audit.verdicts_reached as reached on verdicts.site = reached.site
inner join audit.site_snapshots as snapshots on verdicts.site = snapshots.site
where verdicts.site = $site and reached.rules_version = $rules_version
