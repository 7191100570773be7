-- One rule's findings into `findings`: the rows of the rule's query (sql/rules/<RULE_ID>.sql),
-- which keyaudit.warehouse.findings places where `rule_rows_query` stands, each given the finding
-- id that names the same key in every run. Values are bound: $run_id, $rule_id, $severity.
insert into findings (run_id, finding_id, rule_id, severity, account_id, user_name,
                      access_key_id, key_slot, reason, waived, waiver_id)
select
    $run_id,
    -- one key, one id in every run, known by its id or only by its report slot (0006_key_identity)
    ka_finding_id($rule_id, rule_rows.account_id, rule_rows.user_name, rule_rows.access_key_id,
        rule_rows.key_slot, known.created_at, known.same_second_rank),
    $rule_id,
    $severity,
    rule_rows.account_id,
    rule_rows.user_name,
    rule_rows.access_key_id,
    cast(rule_rows.key_slot as integer),
    rule_rows.reason,
    false,
    null
from (
rule_rows_query
) as rule_rows
left join _run_key_refs as known
    on rule_rows.account_id = known.account_id
    and rule_rows.user_name = known.user_name
    and known.key_ref
        = coalesce(rule_rows.access_key_id, 'slot-' || cast(rule_rows.key_slot as varchar))
