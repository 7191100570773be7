-- Per run and account in scope (not skipped): the long-term credential footprint. AWS advises
-- temporary credentials over access keys, so these counts should fall run after run.
--
-- Counts are of IAM users and their access keys; the root user is never one of them:
--   count_iam_users                         IAM users the run saw (credential report or key listing)
--   count_users_with_active_keys            IAM users with at least one active key
--   count_active_keys                       active IAM-user access keys
--   count_active_keys_older_than_365_days   of those, created more than 365 days before as_of
--   count_active_root_keys                  active root keys, counted apart (ROOT_ACCESS_KEY_PRESENT
--                                           is their rule); NULL when the report has no root row
--   has_no_active_user_keys                 the account is assessed and has no active IAM-user key;
--                                           an active root key does not change it (see the count)
--   count_active_keys_on_admin_users        active IAM-user keys whose user is `admin` by attached
--                                           policy (keys.privilege); NULL when an active key's
--                                           privilege is unknown, so it is never an undercount
--   count_active_ssh_public_keys            active SSH public keys of IAM users (CodeCommit)
--   count_active_service_credentials        active service-specific credentials (CodeCommit,
--                                           Amazon Keyspaces, Amazon Bedrock API keys)
--                                           both NULL unless the account's listing was collected
--                                           (accounts.credentials_status): unknown, never none
--   count_active_signing_certificates       active signing certificates (the listing, or the
--                                           credential report's certificate slots without it)
-- An account not assessed has is_assessed false, every count NULL and has_no_active_user_keys
-- false: nothing is known of its keys, so it is never counted as free of them. Partial accounts
-- are assessed here: their credential report was read, and it lists every user's two key slots.
with runs as (
    select * from runs
),

accounts as (
    select * from accounts where status <> 'skipped'
),

keys as (
    select * from keys
),

users as (
    select * from users
),

credentials as (
    select * from credentials
),

credential_counts as (
    select
        run_id,
        account_id,
        count(*) filter (where is_active and credential_kind = 'ssh_public_key')
            as count_active_ssh_public_keys,
        count(*) filter (where is_active and credential_kind = 'service_specific_credential')
            as count_active_service_credentials,
        count(*) filter (where is_active and credential_kind = 'signing_certificate')
            as count_active_signing_certificates
    from credentials
    group by all
),

iam_users as (
    select run_id, account_id, user_name from users where not is_root
    union
    select run_id, account_id, user_name from keys where not is_root
),

user_counts as (
    select run_id, account_id, count(*) as count_iam_users
    from iam_users
    group by all
),

root_rows as (
    select run_id, account_id
    from users
    where is_root
    group by all
),

key_counts as (
    select
        keys.run_id,
        keys.account_id,
        count(distinct keys.user_name) filter (where not keys.is_root and keys.is_active)
            as count_users_with_active_keys,
        count(*) filter (where not keys.is_root and keys.is_active) as count_active_keys,
        count(*) filter (
            where not keys.is_root
                and keys.is_active
                and epoch(runs.as_of) - epoch(keys.created_at) > 365 * 86400
        ) as count_active_keys_older_than_365_days,
        count(*) filter (where keys.is_root and keys.is_active) as count_active_root_keys,
        count(*) filter (where not keys.is_root and keys.is_active and keys.privilege = 'admin')
            as count_active_keys_on_admin_users,
        count(*) filter (
            where not keys.is_root and keys.is_active
                and coalesce(keys.privilege, 'unknown') not in ('admin', 'escalation', 'other')
        ) as count_active_keys_of_unknown_privilege
    from keys
    inner join runs using (run_id)
    group by all
),

joined as (
    select
        accounts.run_id,
        runs.as_of,
        accounts.account_id,
        accounts.name as account_name,
        accounts.status as account_status,
        accounts.status in ('assessed', 'partial') as is_assessed,
        coalesce(user_counts.count_iam_users, 0) as count_iam_users,
        coalesce(key_counts.count_users_with_active_keys, 0) as count_users_with_active_keys,
        coalesce(key_counts.count_active_keys, 0) as count_active_keys,
        coalesce(key_counts.count_active_keys_older_than_365_days, 0)
            as count_active_keys_older_than_365_days,
        case
            when root_rows.account_id is not null
                then coalesce(key_counts.count_active_root_keys, 0)
        end as count_active_root_keys,
        case
            when coalesce(key_counts.count_active_keys_of_unknown_privilege, 0) = 0
                then coalesce(key_counts.count_active_keys_on_admin_users, 0)
        end as count_active_keys_on_admin_users,
        (accounts.credentials_status is not distinct from 'collected') as is_credentials_listed,
        coalesce(credential_counts.count_active_ssh_public_keys, 0)
            as count_active_ssh_public_keys,
        coalesce(credential_counts.count_active_service_credentials, 0)
            as count_active_service_credentials,
        coalesce(credential_counts.count_active_signing_certificates, 0)
            as count_active_signing_certificates
    from accounts
    inner join runs using (run_id)
    left join user_counts
        on accounts.run_id = user_counts.run_id and accounts.account_id = user_counts.account_id
    left join key_counts
        on accounts.run_id = key_counts.run_id and accounts.account_id = key_counts.account_id
    left join root_rows
        on accounts.run_id = root_rows.run_id and accounts.account_id = root_rows.account_id
    left join credential_counts
        on accounts.run_id = credential_counts.run_id
        and accounts.account_id = credential_counts.account_id
),

final as (
    select
        run_id,
        as_of,
        account_id,
        account_name,
        account_status,
        is_assessed,
        case when is_assessed then count_iam_users end as count_iam_users,
        case when is_assessed then count_users_with_active_keys end as count_users_with_active_keys,
        case when is_assessed then count_active_keys end as count_active_keys,
        case when is_assessed then count_active_keys_older_than_365_days end
            as count_active_keys_older_than_365_days,
        case when is_assessed then count_active_root_keys end as count_active_root_keys,
        is_assessed and count_active_keys = 0 as has_no_active_user_keys,
        case when is_assessed then count_active_keys_on_admin_users end
            as count_active_keys_on_admin_users,
        case when is_assessed and is_credentials_listed then count_active_ssh_public_keys end
            as count_active_ssh_public_keys,
        case when is_assessed and is_credentials_listed then count_active_service_credentials end
            as count_active_service_credentials,
        case when is_assessed then count_active_signing_certificates end
            as count_active_signing_certificates
    from joined
)

select * from final
