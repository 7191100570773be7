-- One row per access key, root keys included. The credential report's slots are joined to the
-- API inventory on creation time (equal to the second). API data wins where both exist because
-- it is live; report-only keys (folder of reports, or listing failed) keep a NULL key id;
-- API-only keys (created after the report) keep a NULL slot. Two keys created in the same
-- second are paired in order (slot 1 with the older API key), so no key is ever counted twice.
-- Each key carries its user's effective privilege (int_user_privilege: admin, escalation, other,
-- unknown), the reason in words, and the quarantine policy AWS attached to the user, if any.
-- Built for one run ($run_id) when it is loaded, into the keys table (keyaudit.warehouse.marts).
with report as (
    select * from stg_credential_report where run_id = $run_id
),

api as (
    select * from stg_access_keys where run_id = $run_id
),

slot_1 as (
    select
        run_id, account_id, user_name, is_root, user_created_at,
        1 as key_slot,
        is_key_1_active as is_active,
        key_1_created_at as created_at,
        key_1_last_used_at as last_used_at,
        key_1_last_used_region as last_used_region,
        key_1_last_used_service as last_used_service
    from report
    where key_1_created_at is not null
),

slot_2 as (
    select
        run_id, account_id, user_name, is_root, user_created_at,
        2 as key_slot,
        is_key_2_active as is_active,
        key_2_created_at as created_at,
        key_2_last_used_at as last_used_at,
        key_2_last_used_region as last_used_region,
        key_2_last_used_service as last_used_service
    from report
    where key_2_created_at is not null
),

slots as (
    select
        *,
        row_number() over (
            partition by run_id, account_id, user_name, created_at order by key_slot
        ) as same_second_rank
    from (
        select * from slot_1
        union all
        select * from slot_2
    ) as report_slots
),

api_ranked as (
    select
        *,
        row_number() over (
            partition by run_id, account_id, user_name, date_trunc('second', created_at)
            order by created_at, access_key_id
        ) as same_second_rank
    from api
),

users as (
    select run_id, account_id, user_name, user_created_at, is_password_enabled
    from report
),

privilege as (
    select * from int_user_privilege where run_id = $run_id
),

joined as (
    select
        coalesce(slots.run_id, api.run_id) as run_id,
        coalesce(slots.account_id, api.account_id) as account_id,
        coalesce(slots.user_name, api.user_name) as user_name,
        coalesce(slots.is_root, false) as is_root,
        api.access_key_id,
        slots.key_slot,
        coalesce(api.is_active, slots.is_active) as is_active,
        coalesce(api.created_at, slots.created_at) as created_at,
        -- last use from the API when it was collected, else from the report (last_used = "report")
        case when api.is_last_used_collected then api.last_used_at else slots.last_used_at end
            as last_used_at,
        case
            when api.is_last_used_collected then api.last_used_region
            else slots.last_used_region
        end
            as last_used_region,
        case
            when api.is_last_used_collected then api.last_used_service
            else slots.last_used_service
        end
            as last_used_service,
        case
            when slots.key_slot is not null and api.access_key_id is not null then 'report+api'
            when slots.key_slot is not null then 'report'
            else 'api'
        end as source
    from slots
    full outer join api_ranked as api
        on slots.run_id = api.run_id
        and slots.account_id = api.account_id
        and slots.user_name = api.user_name
        and slots.created_at = date_trunc('second', api.created_at)  -- the report has whole seconds
        and slots.same_second_rank = api.same_second_rank
),

final as (
    select
        joined.*,
        users.user_created_at,
        coalesce(users.is_password_enabled, false) as is_user_password_enabled,
        coalesce(privilege.privilege, 'unknown') as privilege,
        privilege.privilege_reason,
        coalesce(privilege.is_privilege_conditional, false) as is_privilege_conditional,
        privilege.quarantine_policy
    from joined
    left join users
        on joined.run_id = users.run_id
        and joined.account_id = users.account_id
        and joined.user_name = users.user_name
    left join privilege
        on joined.run_id = privilege.run_id
        and joined.account_id = privilege.account_id
        and joined.user_name = privilege.user_name
)

select * from final
