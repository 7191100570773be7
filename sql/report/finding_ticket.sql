-- The ticket recorded against a finding, if any.
select ticket
from finding_tickets
where finding_id = $finding_id
