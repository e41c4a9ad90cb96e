-- Parameters: $site, $suites. The site's row verdicts of every suite but $suites (those this
-- load judged): a suite no longer in the extract keeps none.
delete from audit.row_verdicts
where site = $site and not list_contains($suites, suite)
