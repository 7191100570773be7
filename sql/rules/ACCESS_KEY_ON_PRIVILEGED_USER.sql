-- Active access keys of IAM users classified admin by attached policy (keys.privilege, from
-- int_user_privilege). Root keys are ROOT_ACCESS_KEY_PRESENT's. Users whose privilege is
-- unknown are not judged here: rule_coverage counts the rule evaluated only in accounts whose
-- user permissions were collected.
with keys as (
    select * from keys where run_id = $run_id
),

admin_keys as (
    select *
    from keys
    where not is_root
        and is_active
        and privilege = 'admin'
),

final as (
    select
        account_id,
        user_name,
        access_key_id,
        key_slot,
        'active key of an administrator: ' || privilege_reason
            || ' (by attached policy, before permissions boundaries and SCPs)' as reason
    from admin_keys
)

select * from final
