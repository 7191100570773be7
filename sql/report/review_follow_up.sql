-- Whether the "deactivate" decisions of the previous reviewed run were carried out by this run:
-- the latest run before this one (by as_of) with review decisions, each key it decided to
-- deactivate (its latest decision), and what this run found. A key is "inactive" or "gone" only
-- where this run assessed its account; otherwise it is "not assessed", never carried out.
with runs as (
    select run_id, as_of from runs
),

this_run as (
    select as_of from runs where run_id = $run_id
),

reviewed_before as (
    select runs.run_id, runs.as_of
    from runs
    cross join this_run
    where runs.as_of < this_run.as_of
        and exists (select 1 from review_decisions where review_decisions.run_id = runs.run_id)
    order by runs.as_of desc, runs.run_id desc
    limit 1
),

decisions as (
    select *
    from review_decisions
    where run_id = (select run_id from reviewed_before)
    qualify row_number() over (
        partition by key_ref order by imported_at desc, file_row desc
    ) = 1
),

deactivate as (
    select * from decisions where decision = 'deactivate'
),

keys_now as (
    select
        account_id,
        user_name,
        coalesce(access_key_id, account_id || '/' || user_name || '/key_' || key_slot) as key_ref,
        bool_or(is_active) as is_active,
    from keys
    where run_id = $run_id
    group by all
),

accounts_now as (
    select account_id, status from accounts where run_id = $run_id
),

final as (
    select
        (select run_id from reviewed_before) as reviewed_run_id,
        deactivate.key_ref,
        deactivate.account_id,
        deactivate.user_name,
        deactivate.ticket,
        deactivate.reviewer,
        case
            when (accounts_now.status is distinct from 'assessed') then 'not assessed'
            when keys_now.key_ref is null then 'gone'
            when not keys_now.is_active then 'inactive'
            else 'still active'
        end as outcome,
        (accounts_now.status is not distinct from 'assessed') and (
            keys_now.key_ref is null or not keys_now.is_active
        ) as is_carried_out,
    from deactivate
    left join accounts_now using (account_id)
    left join keys_now using (account_id, user_name, key_ref)
)

select * from final
order by is_carried_out, account_id, user_name, key_ref
