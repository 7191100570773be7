-- Every sign-off of a run, oldest first (append-only: a second sign-off adds, never replaces).
with sign_offs as (
    select * from sign_offs where run_id = $run_id
),

final as (
    select
        signed_at,
        signed_by,
        reviewer,
        statement,
        report_file,
        report_sha256,
        evidence_path,
        evidence_sha256,
    from sign_offs
)

select * from final
order by signed_at
