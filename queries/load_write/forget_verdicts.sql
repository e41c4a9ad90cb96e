-- Parameters: $site. A validating load replaces the site's row verdicts with its own.
delete from audit.row_verdicts
where site = $site
