-- Grain: one row per distinct frame row of each suite in the site's latest validated load.
-- Parameters: $site, $rules_version. The row-local verdicts that load reached (failed rules
-- and rules whose row condition left the row out, by position in the suite) and its as-of
-- date, reusable only under the same rules version: none when the rules have changed since.
select
    verdicts.suite,
    reached.as_of,
    verdicts.row_hash,
    verdicts.failed,
    verdicts.outside
from audit.row_verdicts as verdicts
inner join audit.verdicts_reached as reached on verdicts.site = reached.site
where verdicts.site = $site and reached.rules_version = $rules_version
