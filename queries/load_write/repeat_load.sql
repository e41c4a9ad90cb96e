-- Grain: one row. Parameters: $load_id (new), $previous, $started_at, $source_path. A reload of
-- the bytes that made the site's current snapshot: the new load is recorded with the previous
-- load's outcome (as-of date, fingerprint, raw rows), as if validated again.
insert into audit.loads (
    load_id, site, started_at, finished_at, as_of, source_path, source_format, extract_sha256,
    raw_load_id, ignored_columns, fingerprint
)
select
    $load_id as load_id,
    site,
    $started_at as started_at,
    now()::timestamp as finished_at,
    as_of,
    $source_path as source_path,
    source_format,
    extract_sha256,
    raw_load_id,
    ignored_columns,
    fingerprint
from audit.loads
where load_id = $previous
