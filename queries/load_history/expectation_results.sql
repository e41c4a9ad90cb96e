-- Grain: one row per expectation of each site's current load.
-- Parameters: $site (NULL = every site). Meaning: each expectation's denominator (rows checked)
-- and numerator (rows that passed), so the Data quality page can hold a pass rate against any
-- threshold without re-running the validation. on_failure: 'quarantine' (the failing rows were
-- quarantined) or 'warning' (a warning suite, name ending '_warnings': counted, rows kept).
with current_loads as (
    select * from current_loads($site)
),

results as (
    select
        current_loads.site,
        r.suite as table_name,
        r.column_name,
        r.reason_code,
        r.description,
        r.expectation,
        r.element_count as rows_checked,
        r.unexpected_count as rows_failed,
        case when r.suite like '%\_warnings' escape '\' then 'warning' else 'quarantine' end
            as on_failure,
        r.element_count - r.unexpected_count as rows_passed,
        (r.element_count - r.unexpected_count) / nullif(r.element_count, 0) as pass_rate
    from audit.expectation_results as r
    inner join current_loads on r.load_id = current_loads.load_id
),

final as (
    select
        site,
        table_name,
        column_name,
        reason_code,
        description,
        expectation,
        on_failure,
        rows_checked,
        rows_passed,
        rows_failed,
        pass_rate
    from results
    -- to the last column: several expectations share a column and reason (one range per
    -- outcome measure), and rows tied on the rest came out in any order (a lake's not a file's)
    order by site, table_name, column_name, reason_code, description, expectation
)

select * from final
