-- The run's findings (all, or those of the accounts in $account_ids) with the credential each
-- names (credential_kind, credential_id, credential_slot; access_key_id and key_slot for an
-- access key only) and their key's facts as the rules see them (finding_keys.sql, on the keys
-- mart), their user's ARN (the users mart) and, when
-- $with_lifecycle, when each was first seen (finding_lifecycle, as loading kept it), and the
-- ticket tracked for it
-- (finding_tickets, `keyaudit track`), and who owns it and why (finding_owners: the key's
-- owner, or the account's). Accounts in the order of
-- $account_order, then by id; within an account worst first ($severities), then rule, user and
-- key. $per_account caps the rows of each account and $total all rows (NULL: no cap), so the
-- report's detail reads only what it shows.
with runs as (
    select * from runs where run_id = $run_id
),

findings as (
    select *
    from findings
    where run_id = $run_id
        and ka_in_accounts(account_id, $account_ids)
),

key_facts as (
    select * from finding_keys($run_id)
),

users as (
    select * from users where run_id = $run_id
),

finding_lifecycle as (
    select * from run_finding_lifecycle where run_id = $run_id and $with_lifecycle
),

finding_tickets as (
    select * from finding_tickets
),

finding_owners as (
    select * from finding_owners where run_id = $run_id
),

ranked as (
    select
        *,
        coalesce(list_position($severities, severity), 99) as severity_rank,
        coalesce(list_position($account_order, account_id), 1000000000) as account_rank,
    from findings
),

picked as (
    select *
    from ranked
    qualify $per_account is null
        or row_number() over (
            partition by account_id
            order by severity_rank, severity, rule_id, user_name nulls first,
                access_key_id nulls first, key_slot nulls first, finding_id
        ) <= $per_account
),

final as (
    select
        picked.finding_id,
        picked.severity,
        picked.severity_rank,
        picked.rule_id,
        picked.account_id,
        picked.user_name,
        key_facts.credential_kind,
        key_facts.credential_id,
        key_facts.credential_slot,
        key_facts.access_key_id,
        key_facts.key_slot,
        picked.reason,
        picked.waived,
        picked.waiver_id,
        picked.account_rank,
        key_facts.key_created_at,
        key_facts.key_last_used_at,
        key_facts.key_last_used_service,
        key_facts.key_last_used_region,
        key_facts.is_key_known,
        users.arn as user_arn,
        ka_days(runs.as_of, key_facts.key_created_at) as key_age_days,
        finding_lifecycle.first_seen_as_of,
        finding_lifecycle.days_open,
        finding_lifecycle.is_new,
        finding_tickets.ticket,
        finding_owners.owner,
        finding_owners.owner_source,
    from picked
    cross join runs
    left join key_facts
        on picked.finding_id = key_facts.finding_id
    left join users
        on picked.account_id = users.account_id
        and picked.user_name = users.user_name
    left join finding_lifecycle
        on picked.finding_id = finding_lifecycle.finding_id
    left join finding_tickets
        on picked.finding_id = finding_tickets.finding_id
    left join finding_owners
        on picked.finding_id = finding_owners.finding_id
)

select * from final
order by account_rank, account_id, severity_rank, severity, rule_id, user_name nulls first,
    access_key_id nulls first, key_slot nulls first, finding_id
limit $total
