-- keyaudit warehouse, version 21: each run's control results and populations over all its
-- accounts, kept as tables (issue 23, part 5), as version 20 keeps its reconciliation. The views
-- `control_results` and `control_populations` (sql/views/_control_results_for.sql and
-- _control_populations_for.sql) stay the one definition; DuckDB plans their stack of views for
-- a quarter of a second on any run and executes them in seconds at 1,000 accounts, so loading a
-- run keeps their rows (keyaudit.warehouse.kept) and the whole-run report reads these tables.
-- A per-owner slice still calls the macros with its accounts. Run tables: reloading a run
-- replaces its rows; a writer whose view SQL changed refills them for every run. Columns are
-- the views', in their order.
create table run_control_results (
    run_id varchar not null,
    framework varchar not null,
    control_id varchar not null,
    rule_id varchar not null,
    evaluated bigint not null,
    failing bigint not null,
    passing bigint not null,
    waived bigint not null,
    population varchar,
    accounts_in_scope bigint,
    accounts_evaluated bigint,
    accounts_not_evaluated bigint,
    accounts_not_assessed bigint,
    result varchar not null
);

create table run_control_populations (
    run_id varchar not null,
    framework varchar not null,
    control_id varchar not null,
    kind varchar not null,
    population varchar not null,
    evaluated bigint not null,
    failing bigint not null,
    waived bigint not null,
    passing bigint not null
);
