-- question: Which access keys should be fixed first?
-- param run_id (run, optional): the run to look at; default the latest run
-- param account_id (text, optional): limit to one account (12 digits); default every account
-- param limit (integer, optional): how many keys to list; default all
--
-- From the fix_first view: each key with open (not waived) findings, one row per key, ranked by
-- AWS quarantine, then the effective privilege of its user (admin, escalation, unknown, other), then the highest
-- severity of its findings, then days idle (never used: since creation), then age.
with fix_first as (
    select * from fix_first
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        fix_rank,
        account_id,
        user_name,
        access_key_id,
        key_slot,
        privilege,
        severity,
        array_to_string(rule_ids, ', ') as rules,
        days_idle,
        age_days,
        privilege_reason,
        why,
    from fix_first
    inner join chosen_run using (run_id)
    where $account_id is null or account_id = $account_id
)

select * from final
order by fix_rank
limit coalesce($limit, 2147483647)
