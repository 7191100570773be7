-- One row per statement of each fetched policy document that applies to an IAM user. Statement
-- may be an object or a list; Action, NotAction and Resource a string or a list: all become
-- lists, actions lowercased (IAM compares them without case), effect lowercased.
with policies as (
    select * from stg_iam_user_policies where is_document_fetched
),

statements as (
    select
        policies.* exclude (document),
        unnest(
            case json_type(document -> 'Statement')
                when 'ARRAY' then from_json(document -> 'Statement', '["json"]')
                when 'OBJECT' then [document -> 'Statement']
                else []
            end
        ) as statement
    from policies
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
        policy_label,
        lower(statement ->> 'Effect') as effect,
        list_transform(ka_json_strings(statement -> 'Action'), lambda a: lower(a)) as actions,
        list_transform(ka_json_strings(statement -> 'NotAction'), lambda a: lower(a))
            as not_actions,
        ka_json_strings(statement -> 'Resource') as resources,
        (statement -> 'NotResource') is not null as has_not_resource
    from statements
)

select * from final
