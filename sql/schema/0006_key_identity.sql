-- keyaudit warehouse, version 6: one key, one identity across runs.
--
-- A finding about an access key named the key by its id when the run knew it and by its report
-- slot otherwise, so one unchanged key, known by id in one run and by slot only in the next (a
-- folder of reports without the access-keys file; root keys), had two finding ids: it was listed
-- as resolved and new at once and counted as remediated. A key is now named by what every source
-- knows: its account, user and creation time to the second (the credential report's
-- access_key_N_last_rotated, the API's CreateDate). Of two keys of one user created in the same
-- second, the later in the order the keys mart pairs them in (report slot, then exact creation
-- time, then key id) is told apart by its rank (#2). A rotated key is a new key: a new creation
-- time, a new finding.
--
-- ka_finding_id is the one definition of a finding's id: keyaudit.rules.catalogue calls it when
-- it writes findings, with the key's creation time and rank from the view key_identities. It is
-- defined here, beside the update that applies it to stored findings, not in
-- sql/staging/_macros.sql: changing it needs a new migration that re-identifies them again.
-- A migration is kept as it was applied: its subqueries and join order predate the SQL lint.
-- noqa: disable=ST05,ST09
create or replace macro ka_finding_id(
    rule_id, account_id, user_name, access_key_id, key_slot, key_created_at, key_same_second_rank
) as
    substr(sha256(concat_ws('|', rule_id, account_id, coalesce(user_name, ''),
        coalesce(
            'created ' || cast(floor(epoch(cast(key_created_at as timestamptz))) as bigint)
                || case when key_same_second_rank > 1 then '#' || key_same_second_rank else '' end,
            access_key_id,
            'slot-' || cast(key_slot as varchar),
            ''
        ))), 1, 16);

-- Re-identify the stored key findings with the same facts the keys mart would give them, read
-- from the raw tables (the mart tables may not exist yet while a warehouse is migrated): the
-- API's CreateDate for a finding with a key id, the report slot's last_rotated otherwise.
-- Findings whose key is in neither keep their id.
update findings
set finding_id = renamed.new_finding_id
from (
    select
        findings.run_id,
        findings.finding_id,
        ka_finding_id(
            findings.rule_id, findings.account_id, findings.user_name, findings.access_key_id,
            findings.key_slot,
            coalesce(api.created_at, slots.created_at),
            coalesce(api.same_second_rank, slots.same_second_rank)
        ) as new_finding_id
    from findings
    left join (
        select
            run_id,
            account_id,
            user_name,
            access_key_id,
            create_date as created_at,
            row_number() over (
                partition by run_id, account_id, user_name, date_trunc('second', create_date)
                order by create_date, access_key_id
            ) as same_second_rank
        from access_keys
    ) as api
        on api.run_id = findings.run_id
        and api.account_id = findings.account_id
        and api.user_name = findings.user_name
        and api.access_key_id = findings.access_key_id
    left join (
        select
            run_id,
            account_id,
            "user" as user_name,
            1 as key_slot,
            try_cast(access_key_1_last_rotated as timestamptz) as created_at,
            1 as same_second_rank
        from credential_report
        union all
        select
            run_id,
            account_id,
            "user" as user_name,
            2 as key_slot,
            try_cast(access_key_2_last_rotated as timestamptz) as created_at,
            case
                when date_trunc('second', try_cast(access_key_1_last_rotated as timestamptz))
                    = date_trunc('second', try_cast(access_key_2_last_rotated as timestamptz))
                    then 2
                else 1
            end as same_second_rank
        from credential_report
    ) as slots
        on slots.run_id = findings.run_id
        and slots.account_id = findings.account_id
        and slots.user_name = findings.user_name
        and slots.key_slot = findings.key_slot
        and findings.access_key_id is null
    where findings.access_key_id is not null or findings.key_slot is not null
) as renamed
where findings.run_id = renamed.run_id
    and findings.finding_id = renamed.finding_id;
