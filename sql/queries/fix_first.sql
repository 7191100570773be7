-- question: Which access keys should be fixed first?
-- param run_id (run, optional): the run to look at; default the latest run
-- param account_id (text, optional): limit to one account (12 digits); default every account
-- param limit (integer, optional): how many keys to list; default all
--
-- From fix_first_for (the fix_first view of one run): each key with open (not waived) findings,
-- one row per key, ranked by AWS quarantine, then the effective privilege of its user (admin,
-- escalation, unknown, other), then the highest severity of its findings, then days idle (never
-- used: since creation), then age.
with fix_first as (
    select * from fix_first_for($run_id, ka_one_account($account_id))
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
)

select * from final
order by fix_rank
limit coalesce($limit, 2147483647)
