-- Active service-specific credentials (CodeCommit Git credentials, Amazon Keyspaces, Amazon
-- Bedrock API keys) whose age (as_of - created) is strictly greater than the limit.
with credentials as (
    select * from credentials where run_id = $run_id
),

over_limit as (
    select *
    from credentials
    where credential_kind = 'service_specific_credential'
        and is_active
        and epoch($as_of) - epoch(created_at) > $max_credential_age_days * 86400
),

final as (
    select
        account_id,
        user_name,
        credential_id as access_key_id,
        cert_slot as key_slot,
        coalesce(service_name, 'service-specific') || ' credential created '
            || ka_days($as_of, created_at) || ' days ago (' || strftime(created_at, '%Y-%m-%d')
            || '); limit ' || $max_credential_age_days as reason
    from over_limit
)

select * from final
