-- The latest run that holds a finding (`keyaudit track` records the ticket against it).
select findings.run_id
from findings
inner join runs using (run_id)
where findings.finding_id = $finding_id
order by runs.as_of desc, findings.run_id desc
limit 1
