-- The run's keys by each name a finding may give them (the access key id, or the report slot as
-- 'slot-<n>'), with what names them across runs (0006_key_identity): a temporary table built once
-- per evaluation, not once per rule (keyaudit.warehouse.findings).
create or replace temp table _run_key_refs as
select
    account_id,
    user_name,
    unnest(
        list_filter([access_key_id, 'slot-' || key_slot], lambda ref: ref is not null)
    ) as key_ref,
    created_at,
    same_second_rank
from key_identities
where run_id = $run_id
