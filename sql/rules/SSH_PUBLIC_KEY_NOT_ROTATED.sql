-- Active SSH public keys (CodeCommit) whose age (as_of - uploaded) is strictly greater than the limit.
with credentials as (
    select * from credentials where run_id = $run_id
),

over_limit as (
    select *
    from credentials
    where credential_kind = 'ssh_public_key'
        and is_active
        and epoch($as_of) - epoch(created_at) > $max_ssh_key_age_days * 86400
),

final as (
    select
        account_id,
        user_name,
        credential_id as access_key_id,
        cert_slot as key_slot,
        'SSH public key uploaded ' || ka_days($as_of, created_at) || ' days ago ('
            || strftime(created_at, '%Y-%m-%d') || '); limit ' || $max_ssh_key_age_days as reason
    from over_limit
)

select * from final
