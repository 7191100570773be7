-- The run's findings a waiver covers, marked waived with the first matching waiver (by its line in
-- the waiver file): only waivers that have not expired and are not reopened for the key
-- (the view waiver_matches decides both).
update findings
set waived = true, waiver_id = chosen.waiver_id
from (
    select finding_id, first(waiver_id order by line_number, waiver_id) as waiver_id
    from waiver_matches
    where run_id = $run_id and finding_id is not null and not is_expired and not is_reopened
    group by finding_id
) as chosen
where findings.run_id = $run_id and findings.finding_id = chosen.finding_id
