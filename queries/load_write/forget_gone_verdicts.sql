-- Parameters: $site, $suite; the relation gone_verdicts (row_hash). The verdicts of the suite's
-- frame rows that this load no longer reads, or judges again.
delete from audit.row_verdicts
where
    site = $site
    and suite = $suite
    and row_hash in (select gone_verdicts.row_hash from gone_verdicts)
