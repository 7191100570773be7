-- Per run, account whose access keys were listed by the API (ListAccessKeys: evidence kind
-- access_keys) and IAM user's key: the credential report's slot and the key id the API listed,
-- matched on creation time as the keys mart pairs them (report+api). The one definition behind
-- the reconciliation's access-keys line and the saved query reconcile_keys. Root keys are in the
-- report only (the API lists no root key) and are left out.
with keys as (
    select * from keys
),

evidence as (
    select * from evidence
),

listed_accounts as (
    select distinct run_id, account_id from evidence where kind = 'access_keys'
),

final as (
    select
        keys.run_id,
        keys.account_id,
        keys.user_name,
        keys.key_slot,
        keys.access_key_id,
        keys.created_at,
        keys.source in ('report', 'report+api') as is_in_report,
        keys.source in ('api', 'report+api') as is_listed,
        keys.source = 'report+api' as is_matched,
    from keys
    inner join listed_accounts using (run_id, account_id)
    where not keys.is_root
)

select * from final
