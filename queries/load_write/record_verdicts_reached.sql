-- Grain: one row per site. Parameters: $site, $rules_version, $as_of. The rules and as-of date
-- the site's row verdicts now stand at, written by every validating load.
insert or replace into audit.verdicts_reached (site, rules_version, as_of)
values ($site, $rules_version, $as_of)
