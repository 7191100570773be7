-- keyaudit warehouse, version 4: the marts become tables. sql/marts/keys.sql and users.sql were
-- views over every run, recomputed by each reader (a filter on run_id cannot pass the keys
-- mart's full outer join); now loading a run builds its rows once (keyaudit.warehouse.marts),
-- and the tables are created from the files right after the staging views.
drop view if exists users;
drop view if exists keys;

-- The hash of the staging and mart SQL the mart tables were built with: when it differs from
-- the files, the next writer rebuilds every run's marts.
create table mart_builds (
    sql_sha256 varchar not null
);
