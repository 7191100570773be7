-- question: Which access keys of IAM users does the credential report show that ListAccessKeys did not list, or the other way round (each key paired with its id on creation time)?
-- param run_id (run, optional): the run to look at; default the latest run
-- param account_id (text, optional): one account; default every account
-- param differences_only (boolean, default false): only the keys without a counterpart
with keys as (
    select * from reconciliation_keys
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        keys.account_id,
        keys.user_name,
        keys.key_slot,
        keys.access_key_id,
        keys.created_at,
        keys.is_in_report,
        keys.is_listed,
        keys.is_matched,
    from keys
    inner join chosen_run using (run_id)
    where ($account_id is null or keys.account_id = $account_id)
        and (not $differences_only or not keys.is_matched)
)

select * from final
order by account_id, user_name, key_slot nulls last, access_key_id
