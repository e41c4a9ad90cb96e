-- Grain: one row per table. Parameters: $load_id (new), $previous. The previous load's row
-- counts, carried over to the reload.
insert into audit.load_tables (
    load_id, table_name, source_file, rows_read, rows_accepted, rows_quarantined
)
select
    $load_id as load_id,
    table_name,
    source_file,
    rows_read,
    rows_accepted,
    rows_quarantined
from audit.load_tables
where load_id = $previous
