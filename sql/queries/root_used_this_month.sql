-- question: In which accounts was the root user used (password or access key) in the calendar month of the run?
-- param run_id (run, optional): the run to look at; default the latest run
with report as (
    select * from stg_credential_report
),

chosen_run as (
    select run_id, as_of, date_trunc('month', as_of) as month_start from ka_run($run_id)
),

root_use as (
    select
        report.account_id,
        chosen_run.month_start,
        chosen_run.as_of,
        report.password_last_used_at,
        greatest(report.key_1_last_used_at, report.key_2_last_used_at) as key_last_used_at,
    from report
    inner join chosen_run using (run_id)
    where report.is_root
),

final as (
    select
        account_id,
        strftime(month_start, '%Y-%m') as month,
        password_last_used_at,
        key_last_used_at,
        greatest(password_last_used_at, key_last_used_at) as last_used_at,
    from root_use
    where greatest(password_last_used_at, key_last_used_at) >= month_start
        and greatest(password_last_used_at, key_last_used_at) <= as_of
)

select * from final
order by last_used_at desc, account_id
