-- Credential-report sentinels: N/A, no_information and not_supported mean different things
-- (see AWS-FACTS.md); typed columns turn them into NULL, *_sentinel columns keep which one.
-- The root row of newer member accounts holds true/false in password_last_changed and
-- password_next_rotation instead of not_supported: no date either.
create or replace macro ka_timestamp(value) as
    case
        when value is null
            or value in ('N/A', 'no_information', 'not_supported', 'true', 'false') then null
        else cast(value as timestamptz)
    end;

create or replace macro ka_sentinel(value) as
    case when value in ('N/A', 'no_information', 'not_supported') then value end;

create or replace macro ka_text(value) as
    case when value in ('N/A', 'no_information', 'not_supported') then null else value end;

-- Whole days in an interval between two instants, for reasons shown to people.
create or replace macro ka_days(later, earlier) as
    cast(floor((epoch(later) - epoch(earlier)) / 86400) as bigint);

-- A policy's Action, NotAction or Resource: a string or a list of strings, as a list (NULL when
-- the statement has no such element), lowercased where IAM compares without case (actions).
create or replace macro ka_json_strings(value) as
    case json_type(value)
        when 'ARRAY' then from_json(value, '["varchar"]')
        when 'VARCHAR' then [value ->> '$']
    end;

-- An action pattern (lowercased) that matches every IAM action, so the holder can grant itself
-- everything: `*`, `*:*`, `iam:*` and the prefixes of `iam:` before a wildcard (`i*`, `ia*`,
-- `iam*`). Other spellings (`?am:*`, `iam:*user*`) are not recognised (docs/report.md).
create or replace macro ka_is_admin_action(action) as
    regexp_full_match(action, '(i(a(m:?)?)?)?\*+|\*+:\*+');

-- A NotAction pattern (lowercased) that may exclude some IAM action: it starts with `iam:`, or
-- with a wildcard before that prefix is complete. An Allow with NotAction none of whose patterns
-- may exclude an IAM action allows `iam:*`.
create or replace macro ka_may_match_iam_action(action) as
    regexp_matches(action, '^([*?]|i([*?]|a([*?]|m([*?]|:))))');
