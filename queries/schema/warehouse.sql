-- Warehouse schema. Idempotent: run at the start of every load.
--
-- Layers:
--   staging.*  raw rows of every load, as text, exactly as read (NHS number pseudonymised,
--              postcode cut to its outward code), with load id, source file and row number.
--   core.*     the accepted rows of each site's current snapshot, typed. One row per contract
--              row; `site` is part of every key. Keys are not declared as primary keys: their
--              indexes doubled the file and cost a third of the write; the load checks each
--              key is unique instead (pipelines/load/snapshot.py, _repeated_keys). Every row keeps source_file and source_row so a
--              figure can be traced to the extract; the load that supplied it is
--              audit.site_snapshots.load_id for its site.
--   audit.*    load log, per-table counts, quarantine with reasons, expectation results.
-- Marts (the KPI figures) are queries in queries/marts/, run with bound parameters.

CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS audit;

CREATE TABLE IF NOT EXISTS core.patients (
    site VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    nhs_number_pseudonym VARCHAR,          -- HMAC-SHA256 of the 10 digits; never the number
    date_of_birth DATE NOT NULL,
    sex VARCHAR NOT NULL,
    primary_condition VARCHAR NOT NULL,
    tone_pattern VARCHAR,
    postcode_outward VARCHAR,              -- outward code only (e.g. SE18)
    date_of_death DATE,
    source_file VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS core.referrals (
    site VARCHAR NOT NULL,
    referral_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    source VARCHAR NOT NULL,
    triage_outcome VARCHAR NOT NULL,       -- blank in the extract = 'pending'
    triage_date DATE,
    source_file VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS core.appointments (
    site VARCHAR NOT NULL,
    appointment_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    referral_id VARCHAR,
    appointment_date DATE NOT NULL,
    type VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS core.trials (
    site VARCHAR NOT NULL,
    trial_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    trial_date DATE NOT NULL,
    method VARCHAR,
    dose_mcg DOUBLE,
    outcome VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS core.implants (
    site VARCHAR NOT NULL,
    implant_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    implant_date DATE NOT NULL,
    procedure VARCHAR NOT NULL,
    pump_model VARCHAR NOT NULL,
    reservoir_ml DOUBLE NOT NULL,
    first_refill_due_date DATE,
    explant_date DATE,
    explant_reason VARCHAR,
    source_file VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS core.refills (
    site VARCHAR NOT NULL,
    refill_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    implant_id VARCHAR NOT NULL,
    refill_date DATE NOT NULL,
    expected_residual_ml DOUBLE,
    actual_residual_ml DOUBLE,
    fill_volume_ml DOUBLE NOT NULL,
    concentration_mcg_per_ml DOUBLE NOT NULL,
    daily_dose_mcg DOUBLE NOT NULL,
    next_due_date DATE,
    reported_eri_date DATE,
    source_file VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS core.complications (
    site VARCHAR NOT NULL,
    complication_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    implant_id VARCHAR,
    event_date DATE NOT NULL,
    category VARCHAR NOT NULL,
    subtype VARCHAR,
    related_to VARCHAR,
    severity VARCHAR,
    required_surgery BOOLEAN,
    description VARCHAR,
    source_file VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS core.outcomes (
    site VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    assessment_date DATE NOT NULL,
    measure VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row INTEGER NOT NULL
);

-- One row per load attempt that got as far as writing (refused loads change nothing).
CREATE TABLE IF NOT EXISTS audit.loads (
    load_id INTEGER PRIMARY KEY,
    site VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    as_of DATE NOT NULL,
    source_path VARCHAR NOT NULL,
    source_format VARCHAR NOT NULL,        -- csv | parquet | xlsx
    extract_sha256 VARCHAR NOT NULL,       -- over every table file read, in table order
    raw_load_id INTEGER NOT NULL,          -- whose staging rows hold this load's raw rows
    ignored_columns VARCHAR NOT NULL,      -- JSON {"table": ["col", ...]}
    fingerprint VARCHAR                    -- what decided the outcome (pipelines/load/snapshot.py)
);
-- Warehouses made before the fingerprint existed.
ALTER TABLE audit.loads ADD COLUMN IF NOT EXISTS fingerprint VARCHAR;

-- The load whose accepted rows are each site's current data.
CREATE TABLE IF NOT EXISTS audit.site_snapshots (
    site VARCHAR PRIMARY KEY,
    load_id INTEGER NOT NULL,
    as_of DATE NOT NULL
);

CREATE TABLE IF NOT EXISTS audit.load_tables (
    load_id INTEGER NOT NULL,
    table_name VARCHAR NOT NULL,
    source_file VARCHAR,                   -- NULL when an optional table was absent
    rows_read INTEGER NOT NULL,
    rows_accepted INTEGER NOT NULL,
    rows_quarantined INTEGER NOT NULL,
    PRIMARY KEY (load_id, table_name)
);

-- Every quarantined row, whole, with every reason. record is the row's raw values as JSON
-- (NHS number pseudonymised, postcode cut to its outward code).
CREATE TABLE IF NOT EXISTS audit.quarantine (
    load_id INTEGER NOT NULL,
    site VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row INTEGER NOT NULL,
    row_key VARCHAR,                       -- the row's key as read, for finding it
    reason_codes VARCHAR[] NOT NULL,
    reasons VARCHAR[] NOT NULL,
    record JSON NOT NULL,
    PRIMARY KEY (load_id, table_name, source_row)
);

-- Result of every expectation of every load: numerator and denominator, so a pass-rate
-- threshold can change without re-running the validation.
CREATE TABLE IF NOT EXISTS audit.expectation_results (
    load_id INTEGER NOT NULL,
    suite VARCHAR NOT NULL,
    expectation VARCHAR NOT NULL,          -- GX expectation type
    column_name VARCHAR,
    reason_code VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    element_count BIGINT NOT NULL,
    unexpected_count BIGINT NOT NULL,
    success BOOLEAN NOT NULL
);
