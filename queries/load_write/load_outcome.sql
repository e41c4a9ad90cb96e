-- Grain: one row. Parameters: $load_id. What a reload reports of the load it carried over.
select
    as_of,
    raw_load_id,
    ignored_columns
from audit.loads
where load_id = $load_id
