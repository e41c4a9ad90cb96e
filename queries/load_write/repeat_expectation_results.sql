-- Grain: one row per expectation. Parameters: $load_id (new), $previous. The previous load's
-- expectation results, carried over to the reload.
insert into audit.expectation_results (
    load_id, suite, expectation, column_name, reason_code, description, element_count,
    unexpected_count, success
)
select
    $load_id as load_id,
    suite,
    expectation,
    column_name,
    reason_code,
    description,
    element_count,
    unexpected_count,
    success
from audit.expectation_results
where load_id = $previous
