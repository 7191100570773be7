-- ListAccessKeys + GetAccessKeyLastUsed, one row per IAM-user key, with readable names.
with api as (
    select * from access_keys
),

final as (
    select
        run_id,
        account_id,
        user_name,
        access_key_id,
        status,
        status = 'Active' as is_active,
        create_date as created_at,
        last_used_date as last_used_at,
        -- GetAccessKeyLastUsed always answers a ServiceName ('N/A' when never used): NULL means
        -- it was not called (collection.last_used = "report"), so last use is unknown here
        last_used_service is not null or last_used_date is not null as is_last_used_collected,
        ka_text(last_used_service) as last_used_service,
        ka_text(last_used_region) as last_used_region
    from api
)

select * from final
