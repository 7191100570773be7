-- Keys the credential report and the live API disagree about, in accounts where the API
-- inventory was collected: a key created after the report (api only) or deleted since, or a
-- slot that matched no API key (report only). Surfaced as run notes, never silently dropped.
with keys as (
    select * from keys
),

listed_accounts as (
    select distinct run_id, account_id from access_keys
),

final as (
    select
        keys.run_id,
        keys.account_id,
        keys.user_name,
        keys.key_slot,
        keys.access_key_id,
        keys.source,
        case keys.source
            when 'api' then 'key ' || keys.access_key_id || ' of ' || keys.user_name
                || ' is listed by the API but not in the credential report'
                || ' (created after the report?)'
            else 'credential report slot ' || keys.key_slot || ' of ' || keys.user_name
                || ' (created ' || strftime(keys.created_at, '%Y-%m-%d %H:%M:%S')
                || ') matches no key listed by the API (deleted after the report?)'
        end as message
    from keys
    inner join listed_accounts using (run_id, account_id)
    where not keys.is_root and keys.source != 'report+api'
)

select * from final
