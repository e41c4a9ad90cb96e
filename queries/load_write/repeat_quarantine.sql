-- Grain: one row per quarantined row. Parameters: $load_id (new), $previous. The previous
-- load's quarantine, carried over to the reload.
insert into audit.quarantine (
    load_id, site, table_name, source_file, source_row, row_key, reason_codes, reasons, record
)
select
    $load_id as load_id,
    site,
    table_name,
    source_file,
    source_row,
    row_key,
    reason_codes,
    reasons,
    record
from audit.quarantine
where load_id = $previous
