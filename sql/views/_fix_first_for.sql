-- fix_first_for(wanted_run_id, wanted_account_ids): the Fix first list of one run (NULL: the
-- latest) over the given accounts (NULL: every account), with the account's name. The ranking
-- is the fix_first view's (fix_rank across the whole run, so a per-owner slice keeps the run's
-- ranks); callers order by fix_rank and take as many as they show. Called by the saved query
-- fix_first and by the report's summary and owner e-mails (sql/report/fix_first.sql).
create or replace macro fix_first_for(wanted_run_id, wanted_account_ids) as table
with fix_first as (
    select *
    from fix_first
    where run_id = ka_run_id(wanted_run_id)
        and ka_in_accounts(account_id, wanted_account_ids)
),

accounts as (
    select run_id, account_id, name from accounts
),

final as (
    select
        fix_first.*,
        accounts.name as account_name
    from fix_first
    left join accounts using (run_id, account_id)
)

select * from final
