-- Grain: one row per table of a load. Parameters: $load_id, $table_name, $source_file (NULL for a
-- table the extract did not hold), $rows_read, $rows_accepted, $rows_quarantined; read always
-- equals accepted + quarantined.
insert into audit.load_tables (
    load_id, table_name, source_file, rows_read, rows_accepted, rows_quarantined
)
values ($load_id, $table_name, $source_file, $rows_read, $rows_accepted, $rows_quarantined)
