-- Warehouse schema. Idempotent: run at the start of every load.
--
-- Layers:
--   staging.*  raw rows read, as text, exactly as read (NHS number pseudonymised, postcode cut
--              to its outward code), with site, source file and row number: every version of
--              every row, valid from the load that read it to the load that no longer did
--              (pipelines/warehouse.py, staging_ddl).
--   history.*  the accepted rows, typed: every version of every row, valid from the load that
--              accepted it (valid_from_load) to the site's load that changed or dropped it
--              (valid_to_load; NULL = still current). One version per contract row and load
--              range; `site` is part of every key. Keys are not declared as primary keys: their
--              indexes doubled the file and cost a third of the write; the load checks each
--              key is unique instead (pipelines/load/snapshot.py, _repeated_keys). Every row
--              keeps source_file and source_row so a figure can be traced to the extract.
--   core.*     views: the current versions of history.* (what the marts read); a past load's
--              state is the same names pinned to it (pipelines/warehouse.py, connect_as_loaded).
--   audit.*    load log, per-table counts, quarantine with reasons, expectation results.
-- Marts (the KPI figures) are queries in queries/marts/, run with bound parameters.

create schema if not exists staging;
create schema if not exists history;
create schema if not exists core;
create schema if not exists audit;

create table if not exists history.patients (
    site varchar not null,
    patient_id varchar not null,
    nhs_number_pseudonym varchar,          -- HMAC-SHA256 of the 10 digits; never the number
    date_of_birth date not null,
    sex varchar not null,
    primary_condition varchar not null,
    tone_pattern varchar,
    postcode_outward varchar,              -- outward code only (e.g. SE18)
    date_of_death date,
    source_file varchar not null,
    source_row integer not null,
    valid_from_load integer not null,
    valid_to_load integer
);

create table if not exists history.referrals (
    site varchar not null,
    referral_id varchar not null,
    patient_id varchar not null,
    received_date date not null,
    source varchar not null,
    triage_outcome varchar not null,       -- blank in the extract = 'pending'
    triage_date date,
    source_file varchar not null,
    source_row integer not null,
    valid_from_load integer not null,
    valid_to_load integer
);

create table if not exists history.appointments (
    site varchar not null,
    appointment_id varchar not null,
    patient_id varchar not null,
    referral_id varchar,
    appointment_date date not null,
    type varchar not null,
    status varchar not null,
    source_file varchar not null,
    source_row integer not null,
    valid_from_load integer not null,
    valid_to_load integer
);

create table if not exists history.trials (
    site varchar not null,
    trial_id varchar not null,
    patient_id varchar not null,
    trial_date date not null,
    method varchar,
    dose_mcg double,
    outcome varchar not null,
    source_file varchar not null,
    source_row integer not null,
    valid_from_load integer not null,
    valid_to_load integer
);

create table if not exists history.implants (
    site varchar not null,
    implant_id varchar not null,
    patient_id varchar not null,
    implant_date date not null,
    procedure varchar not null,
    pump_model varchar not null,
    reservoir_ml double not null,
    first_refill_due_date date,
    explant_date date,
    explant_reason varchar,
    source_file varchar not null,
    source_row integer not null,
    valid_from_load integer not null,
    valid_to_load integer
);

create table if not exists history.refills (
    site varchar not null,
    refill_id varchar not null,
    patient_id varchar not null,
    implant_id varchar not null,
    refill_date date not null,
    expected_residual_ml double,
    actual_residual_ml double,
    fill_volume_ml double not null,
    concentration_mcg_per_ml double not null,
    daily_dose_mcg double not null,
    next_due_date date,
    reported_eri_date date,
    source_file varchar not null,
    source_row integer not null,
    valid_from_load integer not null,
    valid_to_load integer
);

create table if not exists history.complications (
    site varchar not null,
    complication_id varchar not null,
    patient_id varchar not null,
    implant_id varchar,
    event_date date not null,
    category varchar not null,
    subtype varchar,
    related_to varchar,
    severity varchar,
    required_surgery boolean,
    description varchar,
    source_file varchar not null,
    source_row integer not null,
    valid_from_load integer not null,
    valid_to_load integer
);

create table if not exists history.outcomes (
    site varchar not null,
    patient_id varchar not null,
    assessment_date date not null,
    measure varchar not null,
    value double not null,
    source_file varchar not null,
    source_row integer not null,
    valid_from_load integer not null,
    valid_to_load integer
);

-- One row per load attempt that got as far as writing (refused loads change nothing).
create table if not exists audit.loads (
    load_id integer primary key,
    site varchar not null,
    started_at timestamp not null,
    finished_at timestamp not null,
    as_of date not null,
    source_path varchar not null,
    source_format varchar not null,        -- csv | parquet | xlsx
    extract_sha256 varchar not null,       -- over every table file read, in table order
    raw_load_id integer not null,          -- the load whose staging versions are its raw rows
    ignored_columns varchar not null,      -- JSON {"table": ["col", ...]}
    fingerprint varchar                    -- what decided the outcome (pipelines/load/snapshot.py)
);
-- Warehouses made before the fingerprint existed.
alter table audit.loads add column if not exists fingerprint varchar;

-- The load whose accepted rows are each site's current data.
create table if not exists audit.site_snapshots (
    site varchar primary key,
    load_id integer not null,
    as_of date not null
);

-- Sites whose warehouse was made before history was kept: their accepted rows are held from
-- this load on (pipelines/warehouse.py, _migrate); an earlier load cannot be read as loaded.
create table if not exists audit.history_since (
    site varchar primary key,
    load_id integer not null
);

-- One row: the file's size after it was last written afresh (pipelines/warehouse.py, _grown).
create table if not exists audit.file_size (
    rewritten_bytes bigint not null
);

create table if not exists audit.load_tables (
    load_id integer not null,
    table_name varchar not null,
    source_file varchar,                   -- NULL when an optional table was absent
    rows_read integer not null,
    rows_accepted integer not null,
    rows_quarantined integer not null,
    primary key (load_id, table_name)
);

-- Every quarantined row, whole, with every reason. record is the row's raw values as JSON
-- (NHS number pseudonymised, postcode cut to its outward code).
create table if not exists audit.quarantine (
    load_id integer not null,
    site varchar not null,
    table_name varchar not null,
    source_file varchar not null,
    source_row integer not null,
    row_key varchar,                       -- the row's key as read, for finding it
    reason_codes varchar[] not null,
    reasons varchar[] not null,
    record json not null,
    primary key (load_id, table_name, source_row)
);

-- Result of every expectation of every load: numerator and denominator, so a pass-rate
-- threshold can change without re-running the validation.
create table if not exists audit.expectation_results (
    load_id integer not null,
    suite varchar not null,
    expectation varchar not null,          -- GX expectation type
    column_name varchar,
    reason_code varchar not null,
    description varchar not null,
    element_count bigint not null,
    unexpected_count bigint not null,
    success boolean not null
);

-- The row-local verdicts of the site's latest validated load (pipelines/load/verdicts.py), so
-- that the next load sends only new or changed rows through Great Expectations. One row per
-- distinct frame row of each suite: a 64-bit hash of the values the suite reads, the positions
-- in the suite of the row-local rules it failed, and of those whose row condition left it out.
-- A load deletes the verdicts of rows no longer read and adds those of new or changed rows.
create table if not exists audit.row_verdicts (
    site varchar not null,
    suite varchar not null,
    row_hash ubigint not null,
    failed integer[] not null,
    outside integer[] not null
);

-- One row per site with verdicts: the rules version they were reached under (valid only under
-- the same) and the as-of date of the load that last judged them.
create table if not exists audit.verdicts_reached (
    site varchar primary key,
    rules_version varchar not null,
    as_of date not null
);

-- Governance: the audits recorded and the actions agreed at them (pipelines/governance/,
-- docs/audit-cycle.md). Written like a load, through the warehouse's all-or-nothing swap under
-- its lock, so an edit and a load never overwrite each other; every load copies them forward.
create schema if not exists governance;

-- One row per recorded audit: what was presented, and enough to compute it again.
create table if not exists governance.audits (
    audit_id integer primary key,
    recorded_at timestamp not null,
    recorded_by varchar not null,
    period_start date not null,
    period_end date not null,
    site varchar,                          -- NULL = every site
    note varchar,
    loads json not null,                   -- {"site": load_id}: each site's snapshot then
    figure_settings json not null,         -- the settings the figures were computed with
    figures json not null,                 -- the whole `itb-audit kpis --json` object
    pack_sha256 varchar not null           -- SHA-256 of the governance HTML pack recorded
);

-- One row per action, as it stands now; its history is in the access log.
create table if not exists governance.actions (
    action_id integer primary key,
    audit_id integer not null,
    against_kind varchar not null,         -- standard | finding
    against varchar not null,              -- a standard's name, or the finding in words
    what varchar not null,
    owner varchar not null,
    due_date date not null,
    status varchar not null,               -- open | in progress | done | dropped
    notes varchar,
    created_at timestamp not null,
    created_by varchar not null,
    updated_at timestamp not null,
    updated_by varchar not null
);
