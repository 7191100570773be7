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

-- The resource a finding or a population member is, as one text: the account id for an account
-- and for a root user (one per account, whatever key slot a finding names), account/user for an
-- IAM user, account/user/key id (or slot-N when only the report's slot is known) for a key.
create or replace macro ka_subject(resource, account_id, user_name, access_key_id, key_slot) as
    case resource
        when 'account' then account_id
        when 'user' then account_id || '/' || coalesce(user_name, '')
        else account_id || '/' || coalesce(user_name, '') || '/'
            || coalesce(access_key_id, 'slot-' || key_slot, '')
    end;
