-- keyaudit warehouse, version 14: what the reconciliation needs that the warehouse did not keep
-- (issue 21, completeness and accuracy; the checks are the view sql/views/reconciliation.sql).
--
-- accounts_listed       how many accounts the organization's ListAccounts answered; NULL when
--                       the run's scope was no organization listing (a static list, the caller,
--                       a folder of files) or the run was recorded before version 14
-- accounts_filtered_out how many of them the [discovery] filters left out (run.json filtered_out);
--                       never NULL for a run loaded from version 14 on: a run loaded before
--                       has no listed_users either, and its users lines are not performed
-- accounts_unlisted     configured account ids the listing did not have (in scope, not assessed)
alter table runs add column accounts_listed integer;
alter table runs add column accounts_filtered_out integer;
alter table runs add column accounts_unlisted integer;

-- ListUsers as collected (each account's users.json): the IAM listing the credential report's
-- users are reconciled with. No row for an account whose listing was not collected.
create table listed_users (
    run_id varchar not null,
    account_id varchar not null,
    user_name varchar not null,
    user_id varchar,
    arn varchar,
    created_at timestamptz
);
