-- Active access keys of IAM users to whom AWS attached AWSCompromisedKeyQuarantine, ...V2 or
-- ...V3: AWS found one of the user's keys in public and believes it leaked (keys.quarantine_policy,
-- from the permissions listing). The quarantine denies some actions, not all: the key still works.
with keys as (
    select * from keys where run_id = $run_id
),

quarantined as (
    select *
    from keys
    where not is_root
        and is_active
        and quarantine_policy is not null
),

final as (
    select
        account_id,
        user_name,
        access_key_id,
        key_slot,
        'active key of a user AWS quarantined for an exposed key: ' || quarantine_policy
            || ' is attached to the user' as reason
    from quarantined
)

select * from final
