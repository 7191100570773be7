-- Active X.509 signing certificates whose age (as_of - uploaded) is strictly greater than the
-- limit; where the listing was not collected, the credential report's certificate slots (no id).
with credentials as (
    select * from credentials where run_id = $run_id
),

over_limit as (
    select *
    from credentials
    where credential_kind = 'signing_certificate'
        and is_active
        and epoch($as_of) - epoch(created_at) > $max_certificate_age_days * 86400
),

final as (
    select
        account_id,
        user_name,
        credential_id as access_key_id,
        cert_slot as key_slot,
        'signing certificate uploaded ' || ka_days($as_of, created_at) || ' days ago ('
            || strftime(created_at, '%Y-%m-%d') || '); limit ' || $max_certificate_age_days
            as reason
    from over_limit
)

select * from final
