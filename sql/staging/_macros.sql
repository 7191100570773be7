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

-- Which run a saved query looks at: the run asked for, or the latest when none is (NULL). The
-- latest is the greatest as_of, then the greatest run id, the order `keyaudit runs` lists in.
create or replace macro ka_run_id(wanted_run_id) as
    coalesce(wanted_run_id, (select run_id from runs order by as_of desc, run_id desc limit 1));

-- That run's row of runs (none for a run id the warehouse does not hold).
create or replace macro ka_run(wanted_run_id) as table
    select * from runs where run_id = ka_run_id(wanted_run_id);

-- Whether an account is one of the accounts asked for: NULL asks for every account (the whole
-- run), a list for a per-owner slice. A bound NULL parameter has no type, hence the casts.
create or replace macro ka_in_accounts(account_id, wanted_account_ids) as
    cast(wanted_account_ids as varchar[]) is null
    or list_contains(cast(wanted_account_ids as varchar[]), account_id);

-- The credential report's name for the root user (its row's "user", and the user_name of every
-- finding about root): keyaudit.model.ROOT_USER, which tests/test_one_definition.py holds equal.
create or replace macro ka_root_user() as '<root_account>';

-- A saved query's one optional account (NULL: every account) as the list ka_in_accounts and the
-- table macros take.
create or replace macro ka_one_account(account_id) as
    case when account_id is null then null else [cast(account_id as varchar)] end;

-- Severities most severe first (keyaudit.model.SEVERITIES) and those every count shows even at 0
-- (HEADLINE_SEVERITIES); a severity's rank orders findings, one the catalogue adds comes last.
-- tests/test_one_definition.py holds them equal to the Python ones.
create or replace macro ka_severities() as ['critical', 'high', 'medium', 'low', 'info'];

create or replace macro ka_headline_severities() as ['critical', 'high', 'medium', 'low'];

create or replace macro ka_severity_rank(severity) as
    coalesce(list_position(ka_severities(), severity), 99);

-- A finding of finding_lifecycle (or the rows kept of it, run_finding_lifecycle) is new since
-- the previous run of its scope when it was not open there; a run without a previous run has
-- no new findings (everything is first seen in it). findings_new is the view of it.
create or replace macro ka_new_since_previous(is_new, previous_run_id) as
    is_new and previous_run_id is not null;
