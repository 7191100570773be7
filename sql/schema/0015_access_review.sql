-- keyaudit warehouse, version 15: the access review and its sign-off (issue 21, part 2).
--
-- Someone who knows the keys decides, for each key of a run's review population, to keep it
-- (with a justification), rotate or deactivate it (with a ticket), or defer (with an owner and
-- a date within 30 days of the run). `keyaudit review import` checks a filled review.xlsx/.csv
-- and appends what it decided here; a later import of the same run adds rows (the latest
-- decision per key counts), nothing is ever replaced. `keyaudit sign-off` appends a reviewer's
-- sign-off of the run's report. None of these is a run's own table
-- (keyaudit.warehouse.db.RUN_TABLES): reloading a run keeps its review. Each import's file and
-- each sign-off's record are also kept in the run's evidence folder, under review/.
create table review_imports (
    run_id varchar not null,
    imported_at timestamptz not null,
    imported_by varchar not null,       -- the operating-system user who ran the import
    file_name varchar not null,         -- the file's name as handed in
    file_sha256 varchar not null,
    evidence_path varchar not null,     -- its copy, relative to the run's evidence folder
    count_decided integer not null,
    count_undecided integer not null    -- rows of the file left without a decision
);

create table review_decisions (
    run_id varchar not null,
    imported_at timestamptz not null,   -- the import it came with (review_imports)
    file_sha256 varchar not null,
    file_row varchar not null,          -- where in the file: "row 7" or "sheet alice row 7"
    key_ref varchar not null,           -- the access key id (account/user/key_N without one)
    account_id varchar not null,
    user_name varchar not null,
    decision varchar not null,          -- keep | rotate | deactivate | defer
    justification varchar,              -- required for keep
    ticket varchar,                     -- required for rotate and deactivate
    reviewer varchar not null,          -- "Name <address>"
    defer_owner varchar,                -- required for defer
    defer_until date                    -- required for defer: within 30 days of the run's as_of
);

create table sign_offs (
    run_id varchar not null,
    signed_at timestamptz not null,
    signed_by varchar not null,         -- the operating-system user who ran the sign-off
    reviewer varchar not null,          -- "Name <address>"
    statement varchar not null,
    report_file varchar not null,       -- the report signed off, as named on disk
    report_sha256 varchar not null,
    evidence_path varchar not null,     -- the sign-off record, relative to the run's evidence
    evidence_sha256 varchar not null
);
