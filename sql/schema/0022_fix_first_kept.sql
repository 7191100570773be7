-- keyaudit warehouse, version 22: each run's Fix first ranking kept as a table (issue 23, part
-- 5), as versions 20 and 21 keep the reconciliation and the control results. The view
-- `fix_first` (sql/views/fix_first.sql) stays the one definition and `keyaudit query --file
-- fix_first` still reads it; ranking every key with an open finding takes seconds at 1,000
-- accounts, for a report that shows ten, so loading a run keeps its rows
-- (keyaudit.warehouse.kept) and the report's summary and the owner e-mails read this table.
-- A run table: reloading a run replaces its rows; a writer whose view SQL changed refills them
-- for every run. Columns are the view's, in its order.
create table run_fix_first (
    run_id varchar not null,
    fix_rank bigint not null,
    account_id varchar not null,
    user_name varchar not null,
    access_key_id varchar,
    key_slot integer,
    is_root boolean,
    privilege varchar,
    privilege_reason varchar,
    is_quarantined boolean,
    severity varchar,
    rule_ids varchar[],
    count_findings bigint,
    created_at timestamptz,
    last_used_at timestamptz,
    days_idle bigint,
    age_days bigint,
    why varchar,
    privilege_rank integer,
    severity_rank integer,
    owner varchar,
    owner_source varchar
);
