-- Grain: one row per table of a load. Parameters: $load_id. Rows read, accepted and quarantined.
select
    table_name,
    rows_read,
    rows_accepted,
    rows_quarantined
from audit.load_tables
where load_id = $load_id
