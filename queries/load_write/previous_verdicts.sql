-- Grain: one row per distinct frame row of each suite in the site's latest validated load.
-- Parameters: $site, $rules_version. The row-local verdicts that load reached (failed rules
-- and rules whose row condition left the row out, by position in the suite), reusable only
-- under the same rules version: none when the rules have changed since.
select
    suite,
    as_of,
    hash_1,
    hash_2,
    failed,
    outside
from audit.row_verdicts
where site = $site and rules_version = $rules_version
