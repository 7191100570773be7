-- keyaudit warehouse, version 20: the reconciliation of each run, kept as a table (issue 23,
-- part 5). The view `reconciliation` (sql/views/reconciliation.sql) stays the one definition and
-- re-performs every check from the raw tables whenever it is read, but DuckDB needs about half
-- a second to plan its stack of views: the report, its per-owner slices and the data notes read
-- this table instead. Loading a run fills its rows from the view
-- (keyaudit.warehouse.reconciliation.record_differences), in the loading transaction, after the
-- findings and waivers it reconciles; a writer whose view SQL changed fills it again for every
-- run (keyaudit.warehouse.db.migrate). A run's own table (keyaudit.warehouse.db.RUN_TABLES):
-- reloading a run replaces its rows. Columns are the view's, in its order.
create table reconciliation_lines (
    run_id varchar not null,
    check_order integer not null,
    check_id varchar not null,
    subject varchar not null,
    account_id varchar,
    framework varchar,
    requirement varchar,
    compares varchar not null,
    expected bigint,
    found bigint,
    difference bigint,
    result varchar not null,
    detail varchar,
    query_name varchar not null,
    query varchar
);
