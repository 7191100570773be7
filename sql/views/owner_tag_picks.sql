-- Per run, account and user (user_name NULL: the account itself), the tag that names its owner:
-- the account's [delivery.email] owner_tag, a user's [owners] user_tag (keys compared without
-- regard to case; the run's recorded configuration), with the address its value holds (NULL
-- when it holds none) and, then, a note saying the value was skipped. One definition of "the
-- owner tag" for account_owners and key_owners.
with runs as (
    select
        run_id,
        lower(json_extract_string(config_json, '$.delivery.email.owner_tag')) as account_tag,
        nullif(lower(json_extract_string(config_json, '$.owners.user_tag')), '') as user_tag
    from runs
),

owner_tags as (
    select * from owner_tags
),

named as (
    select owner_tags.*
    from owner_tags
    inner join runs
        on owner_tags.run_id = runs.run_id
        and lower(owner_tags.tag_key)
            = case when owner_tags.user_name is null then runs.account_tag else runs.user_tag end
),

final as (
    select
        run_id,
        account_id,
        user_name,
        min(address) as address,
        min(
            case when address is null then
                coalesce('user ' || user_name, 'account ' || account_id) || ': tag ' || tag_key
                || ' = ''' || tag_value || ''' is not an e-mail address'
            end
        ) as note
    from named
    group by run_id, account_id, user_name
)

select * from final
