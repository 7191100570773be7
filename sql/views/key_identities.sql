-- One row per access key of a run with what names it across runs when its id is missing: its
-- creation time (created_at; ka_finding_id uses it to the second) and, for the rare second in
-- which one user got two keys, its rank in that second in the order the keys mart pairs report
-- slots with API keys (slot, then exact creation time, then key id). Read by evaluation
-- (keyaudit.rules.catalogue) to give a key's findings the same id in every run: see
-- sql/schema/0006_key_identity.sql.
with keys as (
    select * from keys
),

final as (
    select
        run_id,
        account_id,
        user_name,
        access_key_id,
        key_slot,
        created_at,
        row_number() over (
            partition by run_id, account_id, user_name, date_trunc('second', created_at)
            order by key_slot nulls last, created_at, access_key_id
        ) as same_second_rank
    from keys
)

select * from final
