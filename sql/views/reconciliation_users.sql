-- Per run, account whose IAM user listing was collected (ListUsers: evidence kind list_users),
-- and user: whether the credential report has the user and whether the listing has it, matched
-- by user name. The one definition behind the reconciliation's users line and the saved query
-- reconcile_users. The root user is in the report only (ListUsers never lists it). A run loaded
-- before warehouse version 14 kept no listing (runs.accounts_filtered_out is NULL): none of its
-- accounts is here, and its users lines are not performed.
with report as (
    select * from stg_credential_report
),

listed_users as (
    select * from listed_users
),

evidence as (
    select * from evidence
),

runs as (
    select * from runs
),

listed_accounts as (
    select distinct evidence.run_id, evidence.account_id
    from evidence
    inner join runs using (run_id)
    where evidence.kind = 'list_users' and runs.accounts_filtered_out is not null
),

report_users as (
    select distinct report.run_id, report.account_id, report.user_name
    from report
    inner join listed_accounts using (run_id, account_id)
    where not report.is_root
),

api_users as (
    select distinct run_id, account_id, user_name from listed_users
),

final as (
    select
        coalesce(report_users.run_id, api_users.run_id) as run_id,
        coalesce(report_users.account_id, api_users.account_id) as account_id,
        coalesce(report_users.user_name, api_users.user_name) as user_name,
        report_users.user_name is not null as is_in_report,
        api_users.user_name is not null as is_listed,
    from report_users
    full outer join api_users using (run_id, account_id, user_name)
)

select * from final
