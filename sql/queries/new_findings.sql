-- question: Which findings are new in a run, compared with the previous run over the same scope?
-- param run_id (run, optional): the run to look at; default the latest run
with findings_new as (
    select * from findings_new
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        findings_new.rule_id,
        findings_new.severity,
        findings_new.account_id,
        findings_new.user_name,
        findings_new.access_key_id,
        findings_new.waived,
        findings_new.reason,
        findings_new.previous_run_id,
    from findings_new
    inner join chosen_run using (run_id)
)

select * from final
order by rule_id, account_id, user_name nulls first, access_key_id nulls first
