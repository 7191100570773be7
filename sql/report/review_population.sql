-- The keys a run's access review decides on: every active access key with an open finding (not
-- waived) or an admin or escalation privilege, with its open findings' rules and the tickets
-- `keyaudit track` recorded against them, and its owner and where the owner came from (key_owners:
-- the one definition). A key the credential report shows without an id (no key listing) is
-- named account/user/key_N, as the samples name it.
with keys as (
    select
        *,
        coalesce(access_key_id, account_id || '/' || user_name || '/key_' || key_slot) as key_ref,
    from keys
    where run_id = $run_id and is_active
),

runs as (
    select run_id, as_of from runs where run_id = $run_id
),

accounts as (
    select run_id, account_id, name from accounts where run_id = $run_id
),

-- only findings that name an access key (finding_credentials): a signing certificate's slot or
-- an SSH key is not one of the user's access keys. The open findings are the rows of the
-- findings_open view (the run's findings not waived) without its lifecycle columns, which this
-- does not read: their window over every run's findings was half of this query at 1,000
-- accounts (tests/warehouse/test_data_tests.py checks the two agree).
findings_open as (
    select
        findings.finding_id,
        findings.rule_id,
        findings.account_id,
        findings.user_name,
        finding_credentials.access_key_id,
        finding_credentials.key_slot,
    from findings
    inner join finding_credentials using (run_id, finding_id)
    where findings.run_id = $run_id
        and not findings.waived
        and finding_credentials.credential_kind = 'access_key'
),

finding_tickets as (
    select * from finding_tickets
),

key_owners as (
    select * from key_owners where run_id = $run_id
),

key_findings as (
    select
        keys.key_ref,
        list(distinct findings_open.rule_id order by findings_open.rule_id) as rule_ids,
        list(distinct finding_tickets.ticket order by finding_tickets.ticket)
            filter (where finding_tickets.ticket is not null) as tickets,
    from keys
    inner join findings_open
        on keys.account_id = findings_open.account_id
        and keys.user_name = findings_open.user_name
        and (
            keys.access_key_id = findings_open.access_key_id
            or (findings_open.access_key_id is null and keys.key_slot = findings_open.key_slot)
        )
    left join finding_tickets using (finding_id)
    group by keys.key_ref
),

final as (
    select
        keys.run_id,
        keys.key_ref,
        key_owners.owner,
        key_owners.owner_source,
        keys.account_id,
        accounts.name as account_name,
        keys.user_name,
        keys.access_key_id,
        ka_days(runs.as_of, keys.created_at) as age_days,
        keys.last_used_at,
        keys.privilege,
        coalesce(key_findings.rule_ids, []) as rule_ids,
        coalesce(key_findings.tickets, []) as tickets,
    from keys
    inner join runs using (run_id)
    left join accounts using (run_id, account_id)
    left join key_findings using (key_ref)
    left join key_owners
        on keys.account_id = key_owners.account_id
        and keys.user_name = key_owners.user_name
        and key_owners.key_ref = coalesce(keys.access_key_id, 'slot-' || keys.key_slot)
    where key_findings.rule_ids is not null or keys.privilege in ('admin', 'escalation')
)

select * from final
order by account_id, user_name, key_ref
