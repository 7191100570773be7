-- For a warehouse from before the lifecycle views: an empty finding_lifecycle for this connection
-- while the report reads its findings, which then show no lifecycle instead of failing.
-- drop_finding_lifecycle_stand_in.sql removes it.
create or replace temp view finding_lifecycle as
select
    cast(null as varchar) as run_id,
    cast(null as varchar) as finding_id,
    cast(null as timestamptz) as first_seen_as_of,
    cast(null as integer) as days_open,
    cast(null as boolean) as is_new,
where false
