-- Active access keys of IAM users who are administrators or one step from it (keys.privilege,
-- from int_user_privilege: effective privilege after Denies, permissions boundary and SCPs, and
-- the one-step escalation paths). Root keys are ROOT_ACCESS_KEY_PRESENT's. Users whose privilege
-- is unknown are not judged here: rule_coverage counts the rule evaluated only in accounts whose
-- user permissions were collected.
with keys as (
    select * from keys where run_id = $run_id
),

privileged_keys as (
    select *
    from keys
    where not is_root
        and is_active
        and privilege in ('admin', 'escalation')
),

final as (
    select
        account_id,
        user_name,
        access_key_id,
        key_slot,
        case privilege
            when 'admin' then 'active key of an administrator: '
            else 'active key of a user one step from administrator: '
        end || privilege_reason as reason
    from privileged_keys
)

select * from final
