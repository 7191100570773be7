-- findings.csv or findings.json ($format), one line per finding of finding_rows.sql (which the
-- caller makes, with its values bound, the temporary view export_finding_rows), formatted by the
-- macros of export_macros.sql as keyaudit.report.exports wrote each row in Python: the same cells,
-- quoting, CRLF and neutralised formula starts for CSV; the same object, key order and separators
-- for JSON (json.dumps with ensure_ascii=False). What the report context knows comes in as
-- parameters: the run ($as_of_iso), its accounts ($export_account_ids with $account_names,
-- $account_owners, $account_ou_paths, a list each in the same order), its rules ($rule_ids with
-- $rule_titles and their command templates cut at the placeholders: $rule_parts, $rule_names,
-- $rule_words) and the role the run assumed ($role). Ordered again as finding_rows.sql orders: the
-- joins here do not keep its order.
select
    case
        when $format = 'csv' then concat_ws(
            ',',
            ka_csv_text($run_id),
            ka_csv_text($as_of_iso),
            ka_csv_text(finding_id),
            ka_csv_text(status),
            ka_csv_text(severity),
            ka_csv_text(rule_id),
            ka_csv_text(rule_title),
            ka_csv_text(account_id),
            ka_csv_text(account_name),
            ka_csv_text(account_owner),
            ka_csv_text(ou_path),
            ka_csv_text(user_name),
            ka_csv_text(user_arn),
            ka_csv_text(credential_kind),
            ka_csv_text(credential_id),
            ka_csv_value(credential_slot),
            ka_csv_text(access_key_id),
            ka_csv_value(key_slot),
            ka_csv_text(owner),
            ka_csv_text(owner_source),
            ka_csv_text(key_created_iso),
            ka_csv_value(key_age_days),
            ka_csv_text(key_last_used_iso),
            ka_csv_text(key_last_used_service),
            ka_csv_text(key_last_used_region),
            ka_csv_text(reason),
            ka_csv_text(waiver_id),
            ka_csv_text(first_seen_iso),
            ka_csv_value(days_open),
            ka_csv_value(is_new),
            -- computed once (a macro's argument is repeated where the macro uses it)
            list_transform([remediation_command], lambda c: ka_csv_text(c))[1]
        ) || chr(13) || chr(10)
        else concat(
            '{"run_id": ',
            ka_json_text($run_id),
            ', "as_of": ',
            ka_json_text($as_of_iso),
            ', "finding_id": ',
            ka_json_text(finding_id),
            ', "status": ',
            ka_json_text(status),
            ', "severity": ',
            ka_json_text(severity),
            ', "rule_id": ',
            ka_json_text(rule_id),
            ', "rule_title": ',
            ka_json_text(rule_title),
            ', "account_id": ',
            ka_json_text(account_id),
            ', "account_name": ',
            ka_json_text(account_name),
            ', "account_owner": ',
            ka_json_text(account_owner),
            ', "ou_path": ',
            ka_json_text(ou_path),
            ', "user_name": ',
            ka_json_text(user_name),
            ', "user_arn": ',
            ka_json_text(user_arn),
            ', "credential_kind": ',
            ka_json_text(credential_kind),
            ', "credential_id": ',
            ka_json_text(credential_id),
            ', "credential_slot": ',
            ka_json_value(credential_slot),
            ', "access_key_id": ',
            ka_json_text(access_key_id),
            ', "key_slot": ',
            ka_json_value(key_slot),
            ', "owner": ',
            ka_json_text(owner),
            ', "owner_source": ',
            ka_json_text(owner_source),
            ', "key_created_at": ',
            ka_json_text(key_created_iso),
            ', "key_age_days": ',
            ka_json_value(key_age_days),
            ', "key_last_used_at": ',
            ka_json_text(key_last_used_iso),
            ', "key_last_used_service": ',
            ka_json_text(key_last_used_service),
            ', "key_last_used_region": ',
            ka_json_text(key_last_used_region),
            ', "reason": ',
            ka_json_text(reason),
            ', "waiver_id": ',
            ka_json_text(waiver_id),
            ', "first_seen_as_of": ',
            ka_json_text(first_seen_iso),
            ', "days_open": ',
            ka_json_value(days_open),
            ', "is_new": ',
            ka_json_value(is_new),
            ', "remediation_command": ',
            list_transform([remediation_command], lambda c: ka_json_text(c))[1],
            '}'
        )
    end as line
from (
    select
        *,
        ka_filled_command(
            ka_filled_parts(parts, q_account, q_role, q_user, q_key, q_root_key, q_credential),
            ka_missing_words(
                names, words, q_account, q_role, q_user, q_key, q_root_key, q_credential
            )
        ) as remediation_command
    from (
        select
            finding_rows.*,
            export_rules.rule_title,
            export_rules.parts,
            export_rules.names,
            export_rules.words,
            export_accounts.account_name,
            export_accounts.account_owner,
            export_accounts.ou_path,
            case when finding_rows.waived then 'waived' else 'open' end as status,
            ka_iso_utc(finding_rows.key_created_at) as key_created_iso,
            ka_iso_utc(finding_rows.key_last_used_at) as key_last_used_iso,
            ka_iso_utc(finding_rows.first_seen_as_of) as first_seen_iso,
            -- each placeholder's value, shell-quoted; null if the finding has none (or '')
            ka_shell_quote(nullif(finding_rows.account_id, '')) as q_account,
            ka_shell_quote(nullif($role, '')) as q_role,
            ka_shell_quote(nullif(
                case
                    when finding_rows.user_name is distinct from ka_root_user()
                        then finding_rows.user_name
                end,
                ''
            )) as q_user,
            ka_shell_quote(nullif(finding_rows.access_key_id, '')) as q_key,
            case
                when finding_rows.user_name = ka_root_user()
                    then ka_shell_quote(nullif(finding_rows.access_key_id, ''))
            end as q_root_key,
            ka_shell_quote(nullif(finding_rows.credential_id, '')) as q_credential
        from export_finding_rows as finding_rows
        left join (
            select
                unnest(cast($export_account_ids as varchar[])) as account_id,
                unnest(cast($account_names as varchar[])) as account_name,
                unnest(cast($account_owners as varchar[])) as account_owner,
                unnest(cast($account_ou_paths as varchar[])) as ou_path
        ) as export_accounts
            on finding_rows.account_id = export_accounts.account_id
        left join (
            select
                unnest(cast($rule_ids as varchar[])) as rule_id,
                unnest(cast($rule_titles as varchar[])) as rule_title,
                unnest(cast($rule_parts as varchar[][])) as parts,
                unnest(cast($rule_names as varchar[][])) as names,
                unnest(cast($rule_words as varchar[][])) as words
        ) as export_rules
            on finding_rows.rule_id = export_rules.rule_id
    ) as export_facts
    -- sorted before the lines are made: the sort then moves the facts, not 0.5 to 1 KB of text
    -- a finding, and the lines keep its order
    order by account_rank, account_id, severity_rank, severity, rule_id, user_name nulls first,
        access_key_id nulls first, key_slot nulls first, finding_id
) as export_rows
