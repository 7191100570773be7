-- Per-owner delivery: each finding of the run with its owner (finding_owners: its key's owner,
-- else its account's; NULL for the compliance list).
select finding_id, account_id, owner, owner_source
from finding_owners
where run_id = $run_id
order by account_id, finding_id
