-- keyaudit warehouse, version 13: tickets (issue 22, part 4).
--
-- A finding's fix is tracked in a ticket system, not here; what keyaudit keeps is the link
-- back, so the report can say which ticket covers a finding (`keyaudit track`). One ticket per
-- finding id (stable across runs), replaced when tracked again. Neither table is a run's own
-- (keyaudit.warehouse.db.RUN_TABLES): reloading a run keeps its tickets and what it delivered.
create table finding_tickets (
    finding_id varchar primary key,
    run_id varchar not null,            -- the latest run that held the finding when tracked
    ticket varchar not null,            -- e.g. SEC-123
    recorded_at timestamptz not null
);

-- Every webhook event delivered: a resend of the same run skips what is here, so a ticket
-- system never gets the same new or resolved finding twice for one run.
create table ticket_events (
    run_id varchar not null,
    finding_id varchar not null,
    event varchar not null,             -- 'new' | 'resolved'
    delivered_at timestamptz not null,
    primary key (run_id, finding_id, event)
);
