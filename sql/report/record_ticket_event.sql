-- One finding's event of a run delivered to the webhook: a resend of the run skips it.
insert or ignore into ticket_events (run_id, finding_id, event, delivered_at)
values ($run_id, $finding_id, $event, $delivered_at)
