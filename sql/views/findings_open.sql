-- Findings open in a run: every finding of the run that is not waived, with the run where it was
-- first seen and the whole days it has been open. Persisting findings are the ones with
-- is_new = false (open at the previous run already).
with finding_lifecycle as (
    select * from finding_lifecycle
),

final as (
    select *
    from finding_lifecycle
    where not waived
)

select * from final
