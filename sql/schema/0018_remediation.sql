-- keyaudit warehouse, version 18: the deactivation plan and the fixes approved from it (issue 22,
-- part 5; docs/remediation.md).
--
-- Each run plans, for every active access key with an open finding that is not waived, the days
-- its owner is warned and the day it is deactivated (sql/remediation/plan.sql). The plan is a
-- run's own table (keyaudit.warehouse.db.RUN_TABLES): reloading a run plans it again.
create table remediation_plan (
    run_id varchar not null,
    plan_id varchar not null,           -- 'plan-' || run_id: the id an approval names
    account_id varchar not null,
    user_name varchar not null,
    access_key_id varchar not null,
    finding_ids varchar[] not null,     -- the key's open, unwaived findings, sorted
    rule_ids varchar[] not null,        -- their rules, sorted
    first_seen_at timestamptz not null, -- the earliest first_seen_as_of of those findings
    warn_on date[] not null,            -- the warning days, earliest first
    deactivate_on date not null,        -- UTC date from which `keyaudit remediate` may act
    key_status varchar not null,        -- the key at plan time: 'Active'
    key_created_at timestamptz,
    key_last_used_at timestamptz,       -- null: never used (or no last-used data)
    primary key (run_id, access_key_id)
);

-- Every action and skip of `keyaudit remediate --apply`, append-only: not a run's own table, so
-- reloading a run keeps what was done to its keys. Each invocation also writes one file under
-- the run's evidence folder (remediation/…json) whose SHA-256 is record_sha256; `keyaudit
-- verify` checks those files against this table.
create table remediation_actions (
    run_id varchar not null,
    plan_id varchar not null,
    acted_at timestamptz not null,
    approved_by varchar not null,
    approved_on date not null,
    account_id varchar not null,
    user_name varchar not null,
    access_key_id varchar not null,
    outcome varchar not null,           -- 'deactivated' | 'skipped' | 'failed'
    reason varchar not null,
    record_path varchar not null,       -- relative to the run's evidence folder
    record_sha256 varchar not null
);
