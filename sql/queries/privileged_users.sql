-- question: Which IAM users are administrators or one step from it, and why (policy, statement, path)?
-- param run_id (run, optional): the run to look at; default the latest run
-- param account_id (text, optional): limit to one account (12 digits); default every account
--
-- From the users mart (int_user_privilege: effective privilege, Denies, boundary and SCPs
-- applied). privilege_reason names what an auditor checks by hand in the run's evidence:
-- authorization_details.json, aws_managed_policies.json and service_control_policies.json.
with users as (
    select * from users
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        users.account_id,
        users.user_name,
        users.privilege,
        users.is_privilege_conditional,
        users.count_active_keys,
        users.quarantine_policy,
        users.permissions_boundary_arn,
        users.privilege_reason,
    from users
    inner join chosen_run using (run_id)
    where not users.is_root
        and users.privilege in ('admin', 'escalation')
        and ($account_id is null or users.account_id = $account_id)
)

select * from final
order by privilege, count_active_keys desc, account_id, user_name
