-- The access review of a run as it stands: each key's latest decision (a later import adds, the
-- latest counts), with the import it came with. Keys without a row are undecided.
with review_decisions as (
    select * from review_decisions where run_id = $run_id
),

review_imports as (
    select * from review_imports where run_id = $run_id
),

latest as (
    select *
    from review_decisions
    qualify row_number() over (
        partition by key_ref order by imported_at desc, file_row desc
    ) = 1
),

final as (
    select
        latest.key_ref,
        latest.account_id,
        latest.user_name,
        latest.decision,
        latest.justification,
        latest.ticket,
        latest.reviewer,
        latest.defer_owner,
        latest.defer_until,
        latest.imported_at,
        review_imports.imported_by,
        review_imports.file_name,
        latest.file_sha256,
    from latest
    left join review_imports using (imported_at, file_sha256)
)

select * from final
order by account_id, user_name, key_ref
