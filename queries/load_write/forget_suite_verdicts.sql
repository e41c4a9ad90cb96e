-- Parameters: $site, $suite. The verdicts of a suite judged afresh in full (none reused).
delete from audit.row_verdicts
where site = $site and suite = $suite
