-- The other long-term credentials of the run ($run_id) by kind, from key_footprint, among the
-- accounts of $account_ids (all when NULL). SSH public keys and service-specific credentials
-- are summed over the assessed accounts whose listing was collected (NULL when none was);
-- count_accounts_credentials_unknown counts the other assessed accounts.
with footprint as (
    select *
    from key_footprint
    where run_id = $run_id
        and ka_in_accounts(account_id, $account_ids)
),

final as (
    select
        sum(count_active_ssh_public_keys) as count_active_ssh_public_keys,
        sum(count_active_service_credentials) as count_active_service_credentials,
        sum(count_active_signing_certificates) as count_active_signing_certificates,
        count(*) filter (where is_assessed and count_active_ssh_public_keys is null)
            as count_accounts_credentials_unknown
    from footprint
)

select * from final
