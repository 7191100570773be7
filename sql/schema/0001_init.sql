-- keyaudit warehouse, version 1. Every table carries run_id; a run is replaced as a whole.
-- All timestamps are timestamptz in UTC.

create table runs (
    run_id varchar primary key,
    started_at timestamptz not null,
    finished_at timestamptz,
    as_of timestamptz not null,
    source varchar not null,            -- aws | files | demo
    scope varchar not null,             -- organization | accounts | caller | files
    config_digest varchar not null,
    config_json json not null,          -- effective configuration (no secrets)
    parameters_json json not null,      -- rule thresholds and severities in force
    tool_version varchar not null,
    status varchar not null,            -- finished | failed
    caller_arn varchar,
    organization_id varchar,
    accounts_in_scope integer not null,
    accounts_assessed integer not null,
    accounts_not_assessed integer not null,
    accounts_skipped integer not null,
    manifest_sha256 varchar
);

create table accounts (
    run_id varchar not null,
    account_id varchar not null,
    name varchar,
    email varchar,
    state varchar,
    ou_path varchar,
    tags json,
    is_management boolean not null default false,
    status varchar not null,            -- assessed | not_assessed | skipped
    error varchar,                      -- why not assessed / skipped
    report_generated_at timestamptz,
    summary_root_access_keys_present integer,  -- GetAccountSummary, live
    summary_root_mfa_enabled integer,
    primary key (run_id, account_id)
);

-- The credential report as delivered: one row per report line, the 22 columns verbatim
-- (booleans lower-cased), so every sentinel keeps its meaning. stg_credential_report types it.
create table credential_report (
    run_id varchar not null,
    account_id varchar not null,
    line_number integer not null,
    "user" varchar not null,
    arn varchar not null,
    user_creation_time varchar,
    password_enabled varchar,
    password_last_used varchar,
    password_last_changed varchar,
    password_next_rotation varchar,
    mfa_active varchar,
    access_key_1_active varchar,
    access_key_1_last_rotated varchar,
    access_key_1_last_used_date varchar,
    access_key_1_last_used_region varchar,
    access_key_1_last_used_service varchar,
    access_key_2_active varchar,
    access_key_2_last_rotated varchar,
    access_key_2_last_used_date varchar,
    access_key_2_last_used_region varchar,
    access_key_2_last_used_service varchar,
    cert_1_active varchar,
    cert_1_last_rotated varchar,
    cert_2_active varchar,
    cert_2_last_rotated varchar
);

-- ListAccessKeys + GetAccessKeyLastUsed, one row per key of an IAM user.
create table access_keys (
    run_id varchar not null,
    account_id varchar not null,
    user_name varchar not null,
    access_key_id varchar not null,
    status varchar not null,
    create_date timestamptz not null,
    last_used_date timestamptz,
    last_used_service varchar,
    last_used_region varchar
);

create table findings (
    run_id varchar not null,
    finding_id varchar not null,        -- stable across runs: hash of rule, account, user, key
    rule_id varchar not null,
    severity varchar not null,
    account_id varchar not null,
    user_name varchar,
    access_key_id varchar,
    key_slot integer,
    reason varchar not null,
    waived boolean not null default false,
    waiver_id varchar
);

create table waivers (
    run_id varchar not null,
    waiver_id varchar not null,
    rule_id varchar not null,
    account_id varchar,
    user_name varchar,
    access_key_id varchar,
    reason varchar not null,
    approved_by varchar not null,
    ticket varchar,
    expires_on date not null
);

create table evidence (
    run_id varchar not null,
    account_id varchar,                 -- null for run-level files
    path varchar not null,              -- relative to the run's evidence folder
    kind varchar not null,
    sha256 varchar not null,
    bytes bigint not null,
    fetched_at timestamptz
);

-- Things an auditor should know about the data that are not findings (repeated rows,
-- report slots without API keys, ...).
create table run_notes (
    run_id varchar not null,
    account_id varchar,
    kind varchar not null,
    message varchar not null
);
