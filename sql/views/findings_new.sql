-- Findings that appeared since the previous run over the same scope (previous_runs): not open
-- at the previous run. A run without a previous run has none (everything is first seen there).
-- Waived findings are included; filter on waived to leave them out.
with finding_lifecycle as (
    select * from finding_lifecycle
),

final as (
    select *
    from finding_lifecycle
    where ka_new_since_previous(is_new, previous_run_id)
)

select * from final
