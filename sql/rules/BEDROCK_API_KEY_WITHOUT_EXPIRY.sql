-- Active Amazon Bedrock API keys (service-specific credentials for bedrock.amazonaws.com)
-- created without an expiry: IAM lists no ExpirationDate for them.
with credentials as (
    select * from credentials where run_id = $run_id
),

never_expiring as (
    select *
    from credentials
    where credential_kind = 'service_specific_credential'
        and service_name = 'bedrock.amazonaws.com'
        and is_active
        and expires_at is null
),

final as (
    select
        account_id,
        user_name,
        credential_id as access_key_id,
        cert_slot as key_slot,
        'Bedrock API key created ' || strftime(created_at, '%Y-%m-%d')
            || ' with no expiry set; it stays valid until deleted' as reason
    from never_expiring
)

select * from final
