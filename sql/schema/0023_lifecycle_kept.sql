-- keyaudit warehouse, version 23: each run's finding lifecycle and resolved findings kept as
-- tables, as versions 20 to 22 keep the reconciliation, the control results and Fix first. The
-- views `finding_lifecycle` and `findings_resolved` stay the one definition and `keyaudit query`
-- still reads them; but both read `finding_history`, a grid of every finding of a scope by every
-- later run of it, so their cost grows with the months kept: at 1,000 accounts and 12 monthly
-- runs, 10 s for one run's lifecycle, paid by every export, the explorer, the PDF's detail and
-- the console summary again. Loading a run keeps their rows (keyaudit.warehouse.kept) once,
-- and keeps them again for the runs after it (a run loaded late, or reloaded, changes what
-- those runs compare with). Run tables: reloading a run replaces its rows; a writer whose view
-- SQL changed refills them for every run. Columns are the views', in their order.
create table run_finding_lifecycle (
    run_id varchar not null,
    finding_id varchar not null,
    rule_id varchar,
    severity varchar,
    account_id varchar,
    user_name varchar,
    access_key_id varchar,
    key_slot integer,
    waived boolean,
    first_seen_run_id varchar,
    first_seen_as_of timestamptz,
    days_open integer,
    is_new boolean,
    waiver_id varchar,
    reason varchar,
    previous_run_id varchar
);

create table run_findings_resolved (
    run_id varchar not null,
    finding_id varchar not null,
    rule_id varchar,
    severity varchar,
    account_id varchar,
    user_name varchar,
    access_key_id varchar,
    key_slot integer,
    reason varchar,
    was_waived boolean,
    previous_run_id varchar,
    first_seen_run_id varchar,
    first_seen_as_of timestamptz,
    last_seen_run_id varchar,
    last_seen_as_of timestamptz,
    resolved_as_of timestamptz,
    days_to_remediate integer
);
