-- The findings a run's waivers would cover but do not, because their key was created (UTC) on a
-- later day than the waiver was granted (waiver_matches.is_reopened); expired waivers suppress
-- nothing anyway and are left out.
with matches as (
    select * from waiver_matches where run_id = $run_id
),

final as (
    select
        waiver_id,
        rule_id,
        account_id,
        user_name,
        access_key_id,
        key_slot,
        cast(timezone('UTC', key_created_at) as date) as key_created_on,
        granted_on,
    from matches
    where is_reopened and not is_expired
)

select * from final order by waiver_id, account_id, user_name, key_created_on, access_key_id
