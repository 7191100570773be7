-- The policies that apply to each IAM user (iam_user_policies: GetAccountAuthorizationDetails),
-- directly or through a group, with readable names: whether the document was fetched, whether
-- the policy is AWS's AdministratorAccess (any partition), and a label for reasons.
with policies as (
    select * from iam_user_policies
),

final as (
    select
        run_id,
        account_id,
        user_name,
        via,
        group_name,
        policy_type,
        policy_name,
        policy_arn,
        document,
        document is not null as is_document_fetched,
        coalesce(
            regexp_full_match(policy_arn, 'arn:aws[a-z-]*:iam::aws:policy/AdministratorAccess'),
            false
        ) as is_administrator_access,
        policy_type || ' policy ' || policy_name
            || case when via = 'group' then ' through group ' || group_name else '' end
            as policy_label
    from policies
)

select * from final
