-- Who owns each account of a run: its owner tag ([delivery.email] owner_tag, matched without
-- regard to case) when the value is an e-mail address, else the deepest OU of
-- [delivery.email] ou_owners that holds the account, else nobody: owner NULL and owner_source
-- 'compliance' (the compliance list receives what nobody owns). The settings are the run's
-- recorded configuration (runs.config_json), so a past run reads as it was delivered. A tag
-- that is not an address is skipped, and owner_note says so.
-- The account step of key_owners, and the owner of every finding without a key.
with runs as (
    select
        run_id,
        json_extract(config_json, '$.delivery.email.ou_owners') as ou_owners
    from runs
),

accounts as (
    select * from accounts
),

owner_tag_picks as (
    select * from owner_tag_picks where user_name is null
),

ou_map as (
    select ou_entries.run_id, entry.key as ou_path, entry.value as address
    from (
        select run_id, unnest(map_entries(from_json(ou_owners, '"MAP(VARCHAR, VARCHAR)"'))) as entry
        from runs
        where ou_owners is not null
    ) as ou_entries
),

by_ou as (
    select
        accounts.run_id,
        accounts.account_id,
        arg_max(ou_map.address, length(ou_map.ou_path)) as address
    from accounts
    inner join ou_map
        on accounts.run_id = ou_map.run_id
        and (
            accounts.ou_path = ou_map.ou_path
            or starts_with(accounts.ou_path, ou_map.ou_path || '/')
        )
    group by all
),

final as (
    select
        accounts.run_id,
        accounts.account_id,
        coalesce(tagged.address, by_ou.address) as owner,
        case
            when tagged.address is not null then 'account_tag'
            when by_ou.address is not null then 'ou_map'
            else 'compliance'
        end as owner_source,
        tagged.note as owner_note
    from accounts
    left join owner_tag_picks as tagged using (run_id, account_id)
    left join by_ou using (run_id, account_id)
)

select * from final
