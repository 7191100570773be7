-- SSH public keys, service-specific credentials and signing certificates as listed, one row each.
with listed as (
    select * from iam_credentials
),

final as (
    select
        run_id,
        account_id,
        user_name,
        credential_kind,
        credential_id,
        service_name,
        status,
        status = 'Active' as is_active,
        created_at,
        expires_at,
        last_used_at
    from listed
)

select * from final
