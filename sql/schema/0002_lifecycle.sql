-- keyaudit warehouse, version 2: waivers with their outcome, and the catalogue in force per run.

-- What became of each waiver of a run (keyaudit.waivers.apply_waivers):
--   active   expires_on >= the run's as_of date (UTC) and it matched at least one finding
--   unused   still valid but matched no finding of the run
--   expired  expires_on < the run's as_of date: it suppresses nothing; count_matched says how
--            many findings it would have covered
-- user_name may hold a glob pattern (svc-*); line_number is the entry's line in the waiver file.
alter table waivers add column status varchar;
alter table waivers add column count_matched integer;
alter table waivers add column line_number integer;

-- The rule catalogue as it was evaluated for the run: severity and parameters in force and the
-- control mappings (Rule.controls as JSON), so views and re-rendered reports use the rules of
-- that month, not today's.
create table run_rules (
    run_id varchar not null,
    rule_id varchar not null,
    title varchar not null,
    severity varchar not null,
    scope varchar not null,             -- key | user | account
    enabled boolean not null,
    controls json not null,             -- {"cis_v1_4_to_v4_0": "1.14", "security_hub": ["IAM.3"], ...}
    parameters json not null,           -- {"max_key_age_days": 90}
    rationale varchar,
    remediation varchar,
    command varchar,
    primary key (run_id, rule_id)
);
