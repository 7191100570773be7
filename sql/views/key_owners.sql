-- Who owns each access key of a run (root keys included), first match wins:
--   1. user_tag: the key's IAM user's tag named by [owners] user_tag (without regard to case),
--      when its value is an e-mail address;
--   2. key_description: the key's description, when it is an e-mail address (IAM keeps a key's
--      description as a user tag whose key is the access key id);
--   3. the account's owner (account_owners: account_tag, ou_map, or compliance with owner NULL).
-- User tags come from the authorization details that privilege collection fetches: where it did
-- not run ([collection] privilege = false, denied, or a folder of files) every key falls back to
-- its account's owner, and owner_note says why. owner_note also names each tag or description
-- skipped because it is not an address (an account tag's note is account_owners'). The
-- settings are the run's recorded configuration.
-- The one definition behind the report, the exports, the review sheet and per-owner delivery.
with runs as (
    select
        run_id,
        nullif(lower(json_extract_string(config_json, '$.owners.user_tag')), '') as user_tag
    from runs
),

keys as (
    select * from keys
),

accounts as (
    select * from accounts
),

account_owners as (
    select * from account_owners
),

user_tags as (
    select * from owner_tags where user_name is not null
),

by_user_tag as (
    select * from owner_tag_picks where user_name is not null
),

by_description as (
    select
        run_id,
        account_id,
        user_name,
        tag_key as access_key_id,
        address,
        case when address is null then
            'key ' || tag_key || ': description ''' || tag_value || ''' is not an e-mail address'
        end as note
    from user_tags
),

final as (
    select
        keys.run_id,
        keys.account_id,
        keys.user_name,
        keys.access_key_id,
        keys.key_slot,
        coalesce(keys.access_key_id, 'slot-' || keys.key_slot) as key_ref,
        coalesce(by_user_tag.address, by_description.address, account_owners.owner) as owner,
        case
            when by_user_tag.address is not null then 'user_tag'
            when by_description.address is not null then 'key_description'
            else account_owners.owner_source
        end as owner_source,
        nullif(concat_ws('; ',
            by_user_tag.note,
            case when by_user_tag.address is null then by_description.note end,
            case
                when runs.user_tag is not null and not keys.is_root
                    and accounts.privilege_status is distinct from 'collected'
                    then 'account ' || keys.account_id || ': user tags were not read (privilege '
                        || 'collection ' || coalesce(accounts.privilege_status, 'not collected')
                        || '), so its keys are owned by the account''s owner'
            end
        ), '') as owner_note
    from keys
    inner join runs using (run_id)
    left join accounts using (run_id, account_id)
    left join account_owners using (run_id, account_id)
    left join by_user_tag using (run_id, account_id, user_name)
    left join by_description using (run_id, account_id, user_name, access_key_id)
)

select * from final
