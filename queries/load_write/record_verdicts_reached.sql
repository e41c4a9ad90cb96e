-- Grain: one row per site. Parameters: $site, $rules_version, $as_of. The rules and as-of date
-- the site's row verdicts now stand at, written by every validating load: the site's row is
-- replaced, or added. A merge, not an insert or replace: a lake has no primary key to replace on.
merge into audit.verdicts_reached as reached
using (
    select
        $site as site,
        $rules_version as rules_version,
        $as_of as as_of
) as judged
    on reached.site = judged.site
when matched then update set rules_version = judged.rules_version, as_of = judged.as_of
when not matched then
    insert (site, rules_version, as_of)
    values (judged.site, judged.rules_version, judged.as_of)
