-- One row per long-term credential of an IAM user besides its access keys and password: SSH
-- public keys, service-specific credentials (CodeCommit, Amazon Keyspaces, Amazon Bedrock API
-- keys) and X.509 signing certificates. Where the account's listing was collected
-- (accounts.credentials_status = 'collected') it is the inventory, with ids. Elsewhere (a folder
-- of reports, the listing off or failed) the credential report's certificate slots stand for
-- the signing certificates, without ids; SSH keys and service-specific credentials are then
-- unknown, and the account says why. No API reports these credentials' last use.
-- Built for one run ($run_id) when it is loaded, into the credentials table
-- (keyaudit.warehouse.marts).
with listed as (
    select * from stg_iam_credentials where run_id = $run_id
),

report as (
    select * from stg_credential_report where run_id = $run_id
),

accounts as (
    select * from accounts where run_id = $run_id
),

unlisted as (
    select account_id
    from accounts
    where coalesce(credentials_status, 'not collected') <> 'collected'
),

from_listing as (
    select
        run_id, account_id, user_name, credential_kind, credential_id,
        null::integer as cert_slot,
        service_name, status, is_active, created_at, expires_at, last_used_at,
        'listing' as source
    from listed
    where account_id not in (select account_id from unlisted)  -- a failed listing: unknown
),

report_slots as (
    select
        run_id, account_id, user_name, 1 as cert_slot, is_cert_1_active as is_active,
        cert_1_created_at as created_at
    from report
    where not is_root and (is_cert_1_active or cert_1_created_at is not null)
    union all
    select
        run_id, account_id, user_name, 2, is_cert_2_active, cert_2_created_at
    from report
    where not is_root and (is_cert_2_active or cert_2_created_at is not null)
),

from_report as (
    select
        run_id, account_id, user_name,
        'signing_certificate' as credential_kind,
        null::varchar as credential_id,
        cert_slot,
        null::varchar as service_name,
        case when is_active then 'Active' else 'Inactive' end as status,
        is_active,
        created_at,
        null::timestamptz as expires_at,
        null::timestamptz as last_used_at,
        'credential_report' as source
    from report_slots
    where account_id in (select account_id from unlisted)
),

final as (
    select * from from_listing
    union all by name
    select * from from_report
)

select * from final
