-- Each of the run's waivers gets its status (expired, active, reopened or unused), how many
-- findings it matched and reopened, and whether it needs review: it expires within $review_days
-- of the run's as-of date.
update waivers
set
    status = outcome.status,
    count_matched = outcome.count_matched,
    count_reopened = outcome.count_reopened,
    needs_review = outcome.needs_review
from (
    select
        waiver_id,
        count(finding_id) filter (where not is_reopened) as count_matched,
        count(finding_id) filter (where is_reopened) as count_reopened,
        case
            when bool_or(is_expired) then 'expired'
            when count(finding_id) filter (where not is_reopened) > 0 then 'active'
            when count(finding_id) > 0 then 'reopened'
            else 'unused'
        end as status,
        not bool_or(is_expired) and min(days_left) <= $review_days as needs_review
    from waiver_matches
    where run_id = $run_id
    group by waiver_id
) as outcome
where waivers.run_id = $run_id and waivers.waiver_id = outcome.waiver_id
