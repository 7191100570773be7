-- Per-owner delivery: why an owner was not taken from a tag (a value that is not an e-mail
-- address, user tags not read) in the accounts delivered ($statuses), once each.
with accounts as (
    select * from accounts where run_id = $run_id and list_contains($statuses, status)
),

notes as (
    select account_id, owner_note from account_owners where run_id = $run_id
    union all
    select account_id, owner_note from key_owners where run_id = $run_id
),

final as (
    select distinct notes.owner_note
    from notes
    inner join accounts using (account_id)
    where notes.owner_note is not null
)

select * from final order by owner_note
