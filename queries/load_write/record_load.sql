-- Grain: one row per load. Parameters: every column of audit.loads but finished_at (the clock at
-- the commit). ignored_columns is JSON: table -> the extract's columns the contract does not name.
insert into audit.loads (
    load_id, site, started_at, finished_at, as_of, source_path, source_format, extract_sha256,
    raw_load_id, ignored_columns, fingerprint
)
values (
    $load_id, $site, $started_at, now()::timestamp, $as_of, $source_path, $source_format,
    $extract_sha256, $raw_load_id, $ignored_columns, $fingerprint
)
