-- For a warehouse from before tickets (version 13): an empty finding_tickets for this
-- connection while the report reads its findings, which then show no ticket instead of failing.
-- drop_finding_tickets_stand_in.sql removes it.
create or replace temp view finding_tickets as
select
    cast(null as varchar) as finding_id,
    cast(null as varchar) as run_id,
    cast(null as varchar) as ticket,
    cast(null as timestamptz) as recorded_at,
where false
