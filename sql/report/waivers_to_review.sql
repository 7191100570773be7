-- The run's waivers that need review ([waivers] review_days before they expire, and not expired),
-- in the accounts of $account_ids (all accounts when NULL): what an owner's e-mail asks them to
-- review.
with waivers as (
    select *
    from waivers
    where run_id = $run_id
        and needs_review
        and ka_in_accounts(account_id, $account_ids)
),

final as (
    select
        waiver_id,
        rule_id,
        account_id,
        user_name,
        access_key_id,
        expires_on,
        ticket,
    from waivers
)

select * from final order by expires_on, waiver_id
