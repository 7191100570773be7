-- For a warehouse from before owners (version 17): an empty finding_owners for this
-- connection while the report reads its findings, which then show no owner instead of failing.
-- drop_finding_owners_stand_in.sql removes it.
create or replace temp view finding_owners as
select
    cast(null as varchar) as run_id,
    cast(null as varchar) as finding_id,
    cast(null as varchar) as owner,
    cast(null as varchar) as owner_source,
where false
