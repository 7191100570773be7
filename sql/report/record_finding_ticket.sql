-- Record (or replace) the ticket of a finding: `keyaudit track FINDING_ID TICKET`.
insert or replace into finding_tickets (finding_id, run_id, ticket, recorded_at)
values ($finding_id, $run_id, $ticket, $recorded_at)
